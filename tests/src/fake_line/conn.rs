//! Connections the fake LINE can cut. Each accepted socket comes with a [`Connection`]
//! handle that the request handler receives as `ConnectInfo`; after [`Connection::cut`] the
//! socket fails every read and write, so the answer being written is never sent, and it is
//! closed with a reset (zero linger) instead of an orderly close. This is how the fake
//! drops a request without an answer, before or after taking it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// One accepted connection, as a handler sees it.
#[derive(Clone, Debug, Default)]
pub struct Connection {
    cut: Arc<AtomicBool>,
}

impl Connection {
    /// From now on the socket fails; the handler's answer never leaves.
    pub(super) fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }
}

pub(super) struct CuttableListener(pub(super) TcpListener);

impl Listener for CuttableListener {
    type Io = CuttableIo;
    type Addr = Connection;

    async fn accept(&mut self) -> (CuttableIo, Connection) {
        loop {
            match self.0.accept().await {
                Ok((stream, _)) => {
                    // Small answers go out at once (benchmarks measure the fake's latency,
                    // not Nagle's).
                    let _ = stream.set_nodelay(true);
                    let connection = Connection::default();
                    let io = CuttableIo {
                        stream,
                        cut: connection.cut.clone(),
                    };
                    return (io, connection);
                }
                // Out of file descriptors and the like: wait, as axum's own listener does.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Connection> {
        Ok(Connection::default())
    }
}

impl Connected<IncomingStream<'_, CuttableListener>> for Connection {
    fn connect_info(stream: IncomingStream<'_, CuttableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

pub(super) struct CuttableIo {
    stream: TcpStream,
    cut: Arc<AtomicBool>,
}

impl CuttableIo {
    fn check(&self) -> io::Result<()> {
        if !self.cut.load(Ordering::SeqCst) {
            return Ok(());
        }
        // Zero linger makes the close that follows a reset (RST), as a crashed server's.
        let _ = self.stream.set_zero_linger();
        Err(io::Error::from(io::ErrorKind::ConnectionReset))
    }
}

impl AsyncRead for CuttableIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for CuttableIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
