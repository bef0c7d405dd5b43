//! A fault-injecting TCP proxy on 127.0.0.1, for putting a slow, silent or broken network
//! between a client (the AWS SDK) and its server (moto). It knows nothing of HTTP beyond
//! this: on a connection, the first bytes the client sends after an answer began start a
//! new *call*, and the first bytes back are that call's answer. Each call meets a
//! [`ProxyFault`]: the next scripted one, else the one set for calls whose request contains
//! a given text (e.g. `TransactWriteItems`), else the standing one.
//!
//! A connection that went silent stays silent (until its client gives up and closes it),
//! and nothing held is passed on later, so a test never sees a request land after the
//! client stopped waiting for it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What one call through the proxy meets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyFault {
    /// Everything passes.
    Pass,
    /// The answer is held this long before it is passed on: the server is slow.
    SlowAnswer(Duration),
    /// The request never reaches the server and no answer comes: the connection is silent.
    Blackhole,
    /// The request reaches the server (which may do the work), its answer never comes back.
    LoseAnswer,
    /// The connection is reset at the request; nothing reaches the server.
    Reset,
}

#[derive(Default)]
struct Rules {
    standing: Option<ProxyFault>,
    /// Calls whose first bytes contain the text meet the fault.
    when: Vec<(Vec<u8>, ProxyFault)>,
    next: VecDeque<ProxyFault>,
    calls: u64,
}

impl Rules {
    fn decide(&mut self, request: &[u8]) -> ProxyFault {
        self.calls += 1;
        if let Some(fault) = self.next.pop_front() {
            return fault;
        }
        let matching = self.when.iter().find(|(text, _)| {
            !text.is_empty() && request.windows(text.len()).any(|w| w == text.as_slice())
        });
        match matching {
            Some((_, fault)) => fault.clone(),
            None => self.standing.clone().unwrap_or(ProxyFault::Pass),
        }
    }
}

pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`, to give the client instead of the server's address.
    pub url: String,
    rules: Arc<Mutex<Rules>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// A proxy to `upstream` (`http://HOST:PORT` or `HOST:PORT`), passing everything.
    pub async fn start(upstream: &str) -> FaultProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fault proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let rules = Arc::new(Mutex::new(Rules::default()));
        let shared = rules.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let rules = shared.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        relay(client, server, rules).await;
                    }
                });
            }
        });
        FaultProxy { url, rules, task }
    }

    fn rules(&self) -> std::sync::MutexGuard<'_, Rules> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every call from now on meets `fault` (unless scripted or matched).
    pub fn set(&self, fault: ProxyFault) {
        self.rules().standing = Some(fault);
    }

    /// Calls whose request contains `text` meet `fault`, instead of the standing one.
    pub fn set_when(&self, text: &str, fault: ProxyFault) {
        self.rules().when.push((text.as_bytes().to_vec(), fault));
    }

    /// The next calls meet these faults, one each, in order.
    pub fn next_calls(&self, faults: impl IntoIterator<Item = ProxyFault>) {
        self.rules().next.extend(faults);
    }

    /// Everything passes again (connections already silent stay so).
    pub fn heal(&self) {
        *self.rules() = Rules {
            calls: self.calls(),
            ..Rules::default()
        };
    }

    /// Calls seen so far.
    pub fn calls(&self) -> u64 {
        self.rules.lock().unwrap_or_else(|p| p.into_inner()).calls
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Passes one connection's bytes both ways, as the rules say.
async fn relay(mut client: TcpStream, mut server: TcpStream, rules: Arc<Mutex<Rules>>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let mut up = vec![0u8; 64 * 1024];
    let mut down = vec![0u8; 64 * 1024];
    // A request went up and its answer has not begun.
    let mut in_call = false;
    let mut fault = ProxyFault::Pass;
    // Nothing passes any more, either way; or no answer does.
    let mut silent = false;
    let mut answers_lost = false;
    let mut server_open = true;
    loop {
        tokio::select! {
            read = client.read(&mut up) => {
                let n = match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if silent {
                    continue;
                }
                if !in_call {
                    in_call = true;
                    fault = rules
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .decide(&up[..n]);
                    match fault {
                        ProxyFault::Reset => {
                            // Zero linger: the close is a reset, as a dropped connection's.
                            let _ = client.set_zero_linger();
                            return;
                        }
                        ProxyFault::Blackhole => {
                            silent = true;
                            continue;
                        }
                        ProxyFault::LoseAnswer => answers_lost = true,
                        ProxyFault::Pass | ProxyFault::SlowAnswer(_) => {}
                    }
                }
                if server.write_all(&up[..n]).await.is_err() {
                    return;
                }
            }
            read = server.read(&mut down), if server_open => {
                let n = match read {
                    Ok(n) if n > 0 => n,
                    // The server closed: pass that on, unless the client must hear nothing.
                    _ if silent || answers_lost => {
                        server_open = false;
                        continue;
                    }
                    _ => return,
                };
                if silent || answers_lost {
                    continue;
                }
                if in_call {
                    in_call = false;
                    if let ProxyFault::SlowAnswer(d) = fault {
                        tokio::time::sleep(d).await;
                    }
                }
                if client.write_all(&down[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
