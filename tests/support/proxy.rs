//! A loopback HTTP CONNECT proxy for tests: every tunnel goes to `127.0.0.1` on the port
//! asked for, whatever host was named (so a test can dial `https://kubernetes:PORT` through
//! it without DNS). Records each `CONNECT` target. One thread per tunnel; stopped on drop.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

pub struct TestProxy {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    targets: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestProxy {
    pub fn start() -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let targets: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (t, s) = (targets.clone(), stop.clone());
        let thread = thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((sock, _)) => {
                        let t = t.clone();
                        thread::spawn(move || {
                            let _ = tunnel(sock, &t);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TestProxy {
            url,
            targets,
            stop,
            thread: Some(thread),
        }
    }

    /// The `host:port` of every CONNECT, in order.
    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn tunnel(sock: TcpStream, targets: &Mutex<Vec<String>>) -> std::io::Result<()> {
    sock.set_nonblocking(false)?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(sock.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
    }
    targets.lock().unwrap().push(target.clone());
    let mut client = sock;
    let port = target.rsplit_once(':').map(|(_, p)| p).unwrap_or("443");
    let upstream = match TcpStream::connect(format!("127.0.0.1:{port}")) {
        Ok(u) => u,
        Err(_) => {
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
            return Ok(());
        }
    };
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    // Bytes the reader buffered past the head (none: the client waits for our answer).
    let (mut c2, mut u2) = (client.try_clone()?, upstream.try_clone()?);
    let up = thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut u2);
        let _ = u2.shutdown(Shutdown::Write);
    });
    let (mut u3, mut c3) = (upstream, client);
    let _ = std::io::copy(&mut u3, &mut c3);
    let _ = c3.shutdown(Shutdown::Write);
    let _ = up.join();
    Ok(())
}
