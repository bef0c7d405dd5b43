//! Zip sizes and cold-start init time of the three Lambda function binaries. Each release
//! binary is packaged as cargo-lambda packages it (a stripped `bootstrap` in a zip), then the
//! `bootstrap` is started as Lambda starts one on `provided.al2023` — the Runtime API (a
//! stand-in on 127.0.0.1), the template's settings, AWS on moto, LINE replaced by the fake
//! LINE API — and timed from process start to its first
//! `GET /2018-06-01/runtime/invocation/next`, the moment it asks for work: what Lambda
//! reports as `Init Duration`. Only a successful init is timed: a process that exits, calls
//! anything else first, logs a warning or an error (e.g. LINE unreachable at warm-up), or does
//! not ask within Lambda's 10-second init limit fails the benchmark.
//!
//! ```sh
//! cargo build --release --workspace --bin webhook --bin scanner --bin sender --bench cold_start
//! cargo bench --workspace --bench cold_start
//! ```
//!
//! (Naming this bench in the build resolves the same features as `cargo bench`, so the bench
//! reuses every release artifact instead of rebuilding the AWS SDK. moto is started from
//! target/test-venv — run scripts/test.sh once — unless SUKUSUKU_MOTO_ENDPOINT names a
//! running one.)

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::get;
use shared::aws::testing::{moto_for_bench, unique_name};
use sukusuku_tests::fake_line::FakeLine;
use sukusuku_tests::server::ACCESS_TOKEN;
use sukusuku_tests::stack::Stack;

const FUNCTIONS: [&str; 3] = ["webhook", "scanner", "sender"];
const RUNS: usize = 10;
/// Lambda stops an init phase that takes longer than this.
const INIT_LIMIT: Duration = Duration::from_secs(10);
const BUILD: &str =
    "cargo build --release --workspace --bin webhook --bin scanner --bin sender --bench cold_start";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// target/release, where this bench runs from (target/release/deps/cold_start-…).
fn release_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("bench executable path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

/// The newest modification time of the sources that go into the function binaries.
fn newest_source(path: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    let Ok(meta) = std::fs::metadata(path) else {
        return newest;
    };
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            newest = newest.max(newest_source(&entry.path()));
        }
    } else if path
        .extension()
        .is_some_and(|e| e == "rs" || e == "toml" || e == "lock")
    {
        newest = meta.modified().unwrap_or(newest);
    }
    newest
}

/// The three binaries, or a message saying how to build them: missing or older than their
/// sources, they would give figures for code that is not in the tree.
fn binaries() -> Result<Vec<(&'static str, PathBuf)>, String> {
    let root = workspace();
    let common = [
        root.join("Cargo.toml"),
        root.join("Cargo.lock"),
        root.join("shared/Cargo.toml"),
        root.join("shared/src"),
    ];
    let mut problems = Vec::new();
    let mut found = Vec::new();
    for name in FUNCTIONS {
        let sources = common
            .iter()
            .chain([&root.join("functions").join(name)])
            .map(|p| newest_source(p))
            .max()
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let bin = release_dir().join(name);
        match std::fs::metadata(&bin).and_then(|m| m.modified()) {
            Err(_) => problems.push(format!("{} is missing", bin.display())),
            Ok(built) if built < sources => {
                problems.push(format!("{} is older than its sources", bin.display()))
            }
            Ok(_) => found.push((name, bin)),
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(format!(
            "{}\nbuild the release binaries first:\n  {BUILD}",
            problems.join("\n")
        ))
    }
}

/// A function's deployment package as cargo-lambda's release build makes it for SAM
/// (rust-cargolambda): the binary without symbols, as one file named `bootstrap` in a
/// deflated zip.
struct Package {
    bootstrap: PathBuf,
    built: u64,
    /// `None` if `strip` could not run: then the bootstrap keeps its symbols.
    stripped: Option<u64>,
    zip: u64,
}

fn package(bin: &Path, work: &Path) -> Package {
    let dir = work.join(bin.file_name().expect("binary name"));
    std::fs::create_dir_all(&dir).expect("package dir");
    let bootstrap = dir.join("bootstrap");
    let built = std::fs::copy(bin, &bootstrap).expect("copy to bootstrap");
    let stripped = Command::new("strip")
        .arg(&bootstrap)
        .status()
        .is_ok_and(|s| s.success())
        .then(|| std::fs::metadata(&bootstrap).expect("stripped size").len());
    let zip = dir.join("function.zip");
    let zipped = Command::new("zip")
        .args(["-q", "-X", "function.zip", "bootstrap"])
        .current_dir(&dir)
        .status()
        .is_ok_and(|s| s.success())
        || Command::new("python3")
            .args([
                "-c",
                "import sys, zipfile\n\
                 with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n    \
                 z.write(sys.argv[2], 'bootstrap')",
            ])
            .arg(&zip)
            .arg(&bootstrap)
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        zipped,
        "neither `zip` nor `python3` could make {}",
        zip.display()
    );
    Package {
        bootstrap,
        built,
        stripped,
        zip: std::fs::metadata(&zip).expect("zip size").len(),
    }
}

/// The packages' directory, removed when the benchmark ends or fails.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mib(bytes: u64) -> String {
    format!(
        "{:.2} MiB ({bytes} bytes)",
        bytes as f64 / (1024.0 * 1024.0)
    )
}

/// What a function did on the Runtime API, and when.
enum RuntimeCall {
    Next(Instant),
    Other(String),
}

/// The Lambda Runtime API, as far as an init reaches: it notes when the function asks for
/// its first event and never answers, so the function stays idle until it is killed.
async fn start_runtime_api(calls: mpsc::Sender<RuntimeCall>) -> SocketAddr {
    async fn next(State(calls): State<mpsc::Sender<RuntimeCall>>) -> StatusCode {
        let _ = calls.send(RuntimeCall::Next(Instant::now()));
        std::future::pending::<()>().await;
        StatusCode::NO_CONTENT
    }
    async fn other(
        method: Method,
        uri: Uri,
        State(calls): State<mpsc::Sender<RuntimeCall>>,
    ) -> StatusCode {
        let _ = calls.send(RuntimeCall::Other(format!("{method} {uri}")));
        StatusCode::ACCEPTED
    }
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .fallback(other)
        .with_state(calls);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the Runtime API stand-in");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// The environment Lambda gives `function`: its own variables plus the template's. Nothing
/// else, not even `HOME`, so no local AWS profile reaches the SDK.
fn environment(
    function: &str,
    stack: &Stack,
    moto: &str,
    runtime_api: SocketAddr,
    line_base: &str,
) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", format!("sukusuku-{function}")),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/sukusuku-{function}"),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]0123456789abcdef".to_string(),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
        ("RUST_LOG", "info".to_string()),
    ];
    // The stack's settings; each function takes what its template entry gives it.
    let queues = ["QUEUE_URL", "DEAD_LETTER_QUEUE_URL"];
    let line_params = [
        "LINE_CHANNEL_SECRET_PARAM",
        "LINE_CHANNEL_ACCESS_TOKEN_PARAM",
    ];
    env.extend(
        stack
            .environment(moto, line_base)
            .into_iter()
            .filter(|(name, _)| match function {
                "webhook" => !queues.contains(name),
                "scanner" => !line_params.contains(name),
                _ => true,
            }),
    );
    match function {
        "webhook" => {}
        "scanner" => env.push(("METRICS_NAMESPACE", "Sukusuku".to_string())),
        _ => env.push(("MAX_CONCURRENCY", "2".to_string())),
    }
    env
}

/// What each function's init does before it asks for work.
fn init_work(function: &str) -> &'static str {
    match function {
        "webhook" => "SSM GetParameters, catalog read from DynamoDB, LINE warm-up",
        "scanner" => "settings and SDK config only, no request",
        _ => "SSM GetParameters, one DynamoDB read, LINE warm-up",
    }
}

fn read_all(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut out);
        }
        String::from_utf8_lossy(&out).into_owned()
    })
}

/// Starts `bin` and times its init: process start to its first `invocation/next`. Fails
/// with the reason and everything the process printed if the init did not succeed.
fn time_init(
    bin: &Path,
    env: &[(&str, String)],
    calls: &mpsc::Receiver<RuntimeCall>,
) -> Result<Duration, String> {
    while calls.try_recv().is_ok() {}
    let started = Instant::now();
    let mut child = Command::new(bin)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = read_all(child.stdout.take());
    let stderr = read_all(child.stderr.take());
    let outcome = loop {
        match calls.recv_timeout(Duration::from_millis(5)) {
            Ok(RuntimeCall::Next(at)) => break Ok(at.duration_since(started)),
            Ok(RuntimeCall::Other(call)) => {
                break Err(format!("called {call} before asking for work"));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err("the Runtime API stand-in stopped".to_string());
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            break Err(format!("exited ({status}) before asking for work"));
        }
        if started.elapsed() > INIT_LIMIT {
            break Err(format!("did not ask for work within {INIT_LIMIT:?}"));
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let logs = format!(
        "{}{}",
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default()
    );
    let complaint = logs
        .lines()
        .find(|l| l.contains(r#""level":"WARN""#) || l.contains(r#""level":"ERROR""#));
    match (outcome, complaint) {
        (Ok(_), Some(line)) => Err(format!("init logged a complaint: {line}\n{logs}")),
        (Ok(init), None) => Ok(init),
        (Err(why), _) => Err(format!("{why}; its output:\n{logs}")),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let binaries = binaries().unwrap_or_else(|why| {
        eprintln!("{why}");
        std::process::exit(1);
    });

    println!("release binaries in {}", release_dir().display());
    println!(
        "packages as cargo-lambda's release build makes them: symbols stripped, one file named \
         bootstrap in a deflated zip; cargo-lambda also links with thin LTO and one codegen unit \
         (not done here) and for arm64 (template.yaml), while this is an {} host build: \
         deployed sizes are similar, not identical",
        std::env::consts::ARCH
    );
    let work = WorkDir(std::env::temp_dir().join(unique_name("sukusuku-cold-start")));
    let packages: Vec<(&str, Package)> = binaries
        .iter()
        .map(|(name, bin)| (*name, package(bin, &work.0)))
        .collect();
    for (name, p) in &packages {
        let stripped = p
            .stripped
            .map_or("not stripped (no `strip`)".to_string(), mib);
        println!(
            "{name:<8} built {}  stripped {stripped}  zip {}",
            mib(p.built),
            mib(p.zip)
        );
    }

    let (moto_endpoint, _moto) = moto_for_bench();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let (sender, calls) = mpsc::channel();
    let (stack, runtime_api, line) = runtime.block_on(async {
        let stack = Stack::create(&moto_endpoint, "coldstart", 5).await;
        let runtime_api = start_runtime_api(sender).await;
        let line = FakeLine::start(ACCESS_TOKEN).await;
        (stack, runtime_api, line)
    });

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!(
        "init time: process start → first GET /2018-06-01/runtime/invocation/next \
         (Lambda's Init Duration), {RUNS} runs each; AWS on moto and LINE on the fake API, \
         plain HTTP on loopback (on AWS, TLS handshakes and network latency add to the \
         functions that make requests); host: {cores} cores, load average {}",
        load.join(" ")
    );
    for (name, p) in &packages {
        let env = environment(name, &stack, &moto_endpoint, runtime_api, &line.base_url);
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|run| {
                time_init(&p.bootstrap, &env, &calls)
                    .unwrap_or_else(|why| panic!("{name}, run {}: {why}", run + 1))
            })
            .collect();
        times.sort();
        let median = (times[(RUNS - 1) / 2] + times[RUNS / 2]) / 2;
        println!(
            "{name:<8} min {:>9}  median {:>9}  max {:>9}  ({})",
            ms(times[0]),
            ms(median),
            ms(times[RUNS - 1]),
            init_work(name)
        );
    }
    let violations = line.violations();
    assert!(
        violations.is_empty(),
        "the fake LINE API saw requests that break the spec: {violations:?}"
    );
}
