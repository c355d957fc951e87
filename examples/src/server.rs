//! Serving an axum app on a loopback port, with a handle to find and stop it.

use std::io;
use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Binds a TCP listener, with an error that names the address and what to do about it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let listener = examples::server::bind("127.0.0.1:0".parse().unwrap(), "--port").await?;
/// assert_ne!(listener.local_addr()?.port(), 0);
/// # Ok(()) }
/// ```
pub async fn bind(addr: SocketAddr, flag: &str) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot listen on {addr}: {e} (choose another port with {flag}; 0 picks a free one)"),
        )
    })
}

/// A running service: where it listens, and how to stop it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let listener = examples::server::bind("127.0.0.1:0".parse().unwrap(), "--port").await?;
/// let handle = examples::server::serve("hello", listener, axum::Router::new())?;
/// assert!(handle.url().starts_with("http://127.0.0.1:"));
/// handle.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ServiceHandle {
    name: &'static str,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

/// Serves `app` on `listener` in a tokio task until [`ServiceHandle::shutdown`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let listener = examples::server::bind("127.0.0.1:0".parse().unwrap(), "--port").await?;
/// let handle = examples::server::serve("hello", listener, axum::Router::new())?;
/// assert_eq!(handle.name(), "hello");
/// # Ok(()) }
/// ```
pub fn serve(name: &'static str, listener: TcpListener, app: Router) -> io::Result<ServiceHandle> {
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(ServiceHandle {
        name,
        addr,
        stop: Some(stop),
        task,
    })
}

impl ServiceHandle {
    /// The service name.
    ///
    /// ```no_run
    /// # fn f(h: examples::server::ServiceHandle) { println!("{}", h.name()); }
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The address it listens on.
    ///
    /// ```no_run
    /// # fn f(h: examples::server::ServiceHandle) { println!("{}", h.addr().port()); }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    ///
    /// ```no_run
    /// # fn f(h: examples::server::ServiceHandle) { println!("{}", h.url()); }
    /// ```
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets requests in flight finish, and waits for the server.
    ///
    /// ```no_run
    /// # async fn f(h: examples::server::ServiceHandle) -> std::io::Result<()> {
    /// h.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.map_err(io::Error::other)?
    }

    /// Waits until the server stops (it runs until shut down or until it fails).
    ///
    /// ```no_run
    /// # async fn f(h: examples::server::ServiceHandle) -> std::io::Result<()> {
    /// h.wait().await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait(self) -> io::Result<()> {
        let ServiceHandle { stop, task, .. } = self;
        let result = task.await.map_err(io::Error::other)?;
        drop(stop);
        result
    }
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM: what a service waits for before shutting
/// down.
///
/// ```no_run
/// # async fn f() {
/// examples::server::shutdown_signal().await;
/// # }
/// ```
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
