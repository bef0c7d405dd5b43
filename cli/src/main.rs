//! `sukusuku`: run everything locally (`serve`) and the staff tools (`preview`,
//! `catalog check|publish`, `reservations check|publish|export`, `richmenu install`,
//! `simulate`). Thin: argument parsing here, the work in `shared` and the modules below.

mod catalog_file;
mod local_events;
mod local_line;
mod preview;
mod reservations_file;
mod richmenu;
mod serve;
mod simulate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "sukusuku",
    version,
    about = "Push-type child-rearing support on LINE — local runner and staff tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the webhook, the daily 09:00 (Asia/Tokyo) scan and the sender on an embedded store.
    ///
    /// Environment: LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN, LINE_API_BASE
    /// (default https://api.line.me). Without LINE_CHANNEL_ACCESS_TOKEN, serve runs in local
    /// mode: nothing goes to LINE; every reply, push and multicast is printed instead (and
    /// kept in DIR/outbox.jsonl), and LINE_CHANNEL_SECRET defaults to `sukusuku-local`.
    Serve {
        /// The public listener, the one LINE reaches: POST /webhook and GET /healthz only.
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
        addr: SocketAddr,
        /// The development listener (POST /dev/daily?date=YYYY-MM-DD). Loopback only: never
        /// forward it through a proxy.
        #[arg(long, default_value = serve::DEFAULT_DEV_ADDR, value_name = "HOST:PORT")]
        dev_addr: serve::DevAddr,
        #[arg(long, value_name = "FILE")]
        catalog: PathBuf,
        /// Keep residents here across restarts (without it, data lives in memory only).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Print, day by day, what one resident with the given 受信設定 would receive.
    Preview(PreviewArgs),
    /// Staff tools for the milestone catalog.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Staff tools for the reservations file (services and their slots).
    Reservations {
        #[command(subcommand)]
        command: ReservationsCommand,
    },
    /// What a year costs: a synthetic population through the real daily scan, day after
    /// day, with LINE requests, Lambda, DynamoDB and SQS use and the AWS bill in yen per
    /// month, and LINE's messages against its plans.
    Simulate(simulate::SimulateArgs),
    /// The rich menu: the buttons under the chat (DIR holds richmenu.json and its image).
    Richmenu {
        #[command(subcommand)]
        command: RichmenuCommand,
    },
}

#[derive(Subcommand)]
enum RichmenuCommand {
    /// Check the definition and image against LINE's limits; sends nothing, needs no token.
    Check {
        #[arg(value_name = "DIR", default_value = richmenu::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Check, then create the menu on LINE, upload its image, make it the default for every
    /// friend, and delete the menus earlier installs made (never one made by hand).
    ///
    /// Environment: LINE_CHANNEL_ACCESS_TOKEN (required), LINE_API_BASE (default
    /// https://api.line.me), LINE_API_DATA_BASE (default https://api-data.line.me, for the image).
    Install {
        #[arg(value_name = "DIR", default_value = richmenu::DEFAULT_DIR)]
        dir: PathBuf,
    },
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("anchor").required(true).args(["due", "birth"]))]
struct PreviewArgs {
    #[arg(long, value_name = "FILE")]
    catalog: PathBuf,
    /// 出産予定日 (YYYY-MM-DD)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    due: Option<NaiveDate>,
    /// 生年月日 (YYYY-MM-DD)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    birth: Option<NaiveDate>,
    /// First day to list (inclusive).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    from: Option<NaiveDate>,
    /// Last day to list (inclusive).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    to: Option<NaiveDate>,
    /// The resident reads やさしい日本語: show `easy_text` where the catalog has one.
    #[arg(long)]
    easy: bool,
    /// Categories the resident receives (repeat the flag; default: every category).
    #[arg(long, value_name = "ID")]
    category: Vec<String>,
    /// The resident's 地区 (a district id of the catalog's settings).
    #[arg(long, value_name = "ID")]
    district: Option<String>,
    /// A household attribute (repeat the flag), e.g. single-parent.
    #[arg(long, value_name = "ID")]
    household: Vec<String>,
    /// The 保育所 application status (a nursery choice id), e.g. planning.
    #[arg(long, value_name = "ID")]
    nursery: Option<String>,
    /// The child's ニックネーム, for texts that use {nickname}.
    #[arg(long, value_name = "NAME")]
    nickname: Option<String>,
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Validate a catalog file with the files beside it, or the catalog published in a local
    /// data dir (`--data`) or a deployed stack's table (`--table`); every problem is listed
    /// with its line, entry and field.
    #[command(group = clap::ArgGroup::new("source").required(true).args(["file", "catalog", "data", "table"]))]
    Check {
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        catalog: Option<PathBuf>,
        /// The catalog published into this data directory (`catalog publish --data`).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// The catalog published into this table (the stack's `TableName` output).
        #[arg(long, value_name = "NAME")]
        table: Option<String>,
    },
    /// Validate a catalog and make it live: in the local data dir (`--data`, while `serve`
    /// is stopped; then `serve --catalog DIR/catalog/catalog.yaml --data DIR` runs it) or a
    /// deployed stack's table (`--table`, AWS credentials and region from the usual AWS
    /// environment). Nothing changes if it is invalid.
    Publish {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        target: StoreArgs,
    },
}

#[derive(Subcommand)]
enum ReservationsCommand {
    /// Validate a reservations file and the slot CSVs it names; every problem is listed with
    /// its file, line, entry and field.
    Check {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Judge slots as past against this day instead of today (Asia/Tokyo).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        today: Option<NaiveDate>,
    },
    /// Validate a reservations file and make it live: in the local data dir (`--data`, while
    /// `serve` is stopped) or a deployed stack's table (`--table`, AWS credentials from the
    /// usual environment). Slots before today stay as they are. Removing a booked slot or
    /// lowering a capacity below its bookings is refused with the list of those bookings,
    /// unless --cancel-bookings. Nothing changes if the file is invalid.
    ///
    /// Environment: LINE_CHANNEL_ACCESS_TOKEN and LINE_API_BASE to tell residents whose
    /// booking is cancelled (locally without a token, the messages are printed instead).
    Publish {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        target: StoreArgs,
        /// Cancel the bookings that no longer fit (the latest booked first) and tell each
        /// resident in LINE.
        #[arg(long)]
        cancel_bookings: bool,
        /// The stack's BookingBusName output, so the cancellations reach the city's systems.
        #[arg(long, value_name = "NAME", requires = "table")]
        event_bus: Option<String>,
        /// Judge slots as past against this day instead of today (Asia/Tokyo).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        today: Option<NaiveDate>,
    },
    /// Bookings, cancellations and absences (with their reasons) as CSV on stdout, UTF-8 with
    /// a BOM so Excel reads the Japanese. Without --date: from a year back to a year ahead.
    Export {
        #[command(flatten)]
        target: StoreArgs,
        /// Only this service.
        #[arg(long, value_name = "ID")]
        service: Option<String>,
        /// Only the slots of this day.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        date: Option<NaiveDate>,
    },
}

/// The local data dir or a deployed stack's table: one of the two.
#[derive(Args)]
#[group(required = true, multiple = false)]
struct StoreArgs {
    /// The data directory `sukusuku serve --data` uses.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// The stack's `TableName` output.
    #[arg(long, value_name = "NAME")]
    table: Option<String>,
}

impl StoreArgs {
    fn target<'a>(&'a self, event_bus: Option<&'a str>) -> reservations_file::Target<'a> {
        match (&self.data, &self.table) {
            (Some(dir), _) => reservations_file::Target::Data(dir),
            (None, Some(table)) => reservations_file::Target::Table { table, event_bus },
            // clap's group requires one of them.
            (None, None) => reservations_file::Target::Data(std::path::Path::new(".")),
        }
    }
}

impl StoreArgs {
    /// Where `catalog publish` makes the catalog live.
    fn catalog_target(&self) -> catalog_file::Target<'_> {
        match (&self.data, &self.table) {
            (Some(dir), _) => catalog_file::Target::Data(dir),
            (None, Some(table)) => catalog_file::Target::Table(table),
            // clap's group requires one of them.
            (None, None) => catalog_file::Target::Data(std::path::Path::new(".")),
        }
    }
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    shared::dates::parse_ymd(s).ok_or_else(|| format!("`{s}` is not a date in YYYY-MM-DD form"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            addr,
            dev_addr,
            catalog,
            data,
        } => serve::run(serve::ServeArgs {
            addr,
            dev_addr,
            catalog: &catalog,
            data: data.as_deref(),
        }),
        Command::Preview(args) => preview::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Catalog {
            command:
                CatalogCommand::Check {
                    file,
                    catalog,
                    data,
                    table,
                },
        } => match (file.or(catalog), data, table) {
            (Some(path), _, _) => catalog_file::check(&path),
            (None, Some(dir), _) => catalog_file::check_published(catalog_file::Target::Data(&dir)),
            (None, None, Some(table)) => {
                catalog_file::check_published(catalog_file::Target::Table(&table))
            }
            // clap's group requires one of them.
            (None, None, None) => Err(anyhow::anyhow!("name the catalog file")),
        },
        Command::Catalog {
            command: CatalogCommand::Publish { file, target },
        } => catalog_file::publish(&file, target.catalog_target()),
        Command::Reservations {
            command: ReservationsCommand::Check { file, today },
        } => reservations_file::check(
            &file,
            today.unwrap_or_else(|| shared::dates::tokyo_date(chrono::Utc::now())),
        ),
        Command::Reservations {
            command:
                ReservationsCommand::Publish {
                    file,
                    target,
                    cancel_bookings,
                    event_bus,
                    today,
                },
        } => reservations_file::publish(
            &file,
            target.target(event_bus.as_deref()),
            cancel_bookings,
            today,
        ),
        Command::Reservations {
            command:
                ReservationsCommand::Export {
                    target,
                    service,
                    date,
                },
        } => reservations_file::export(target.target(None), service.as_deref(), date),
        Command::Richmenu {
            command: RichmenuCommand::Check { dir },
        } => richmenu::check(&dir),
        Command::Richmenu {
            command: RichmenuCommand::Install { dir },
        } => richmenu::install(&dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
