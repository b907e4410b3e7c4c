//! The client against a server built on our own TLS stack (`tls::stream::accept` + hyper), in
//! this process: a trusted fetch, a POST echo, and a refused self-signed certificate.

mod common;

use common::*;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

/// Serve `cert` on a random port from a background thread; returns the port.
fn our_server(cert: &Path) -> u16 {
    let chain = tls::pki::pem::parse_certificates(&std::fs::read(cert).unwrap()).unwrap();
    let key = tls::pki::keys::read_private_key(&certs().leaf_key).unwrap();
    let config = Arc::new(tls::ServerConfig::new(chain, key).unwrap());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let config = config.clone();
                tokio::spawn(async move {
                    let Ok(tls) = tls::stream::accept(config, tcp).await else {
                        return;
                    };
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), hyper::service::service_fn(handle))
                        .await;
                });
            }
        });
    });
    port
}

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let text = format!(
        "{method} from our server: {}",
        String::from_utf8_lossy(&body)
    );
    Ok(Response::new(Full::new(Bytes::from(text))))
}

#[test]
fn fetch_and_post_over_our_tls() {
    let port = our_server(&certs().good);
    let cfg = tempfile::tempdir().unwrap();
    let url = format!("https://localhost:{port}/");
    let ca = certs().ca.to_str().unwrap();
    let out = client(cfg.path(), &["--cacert", ca, &url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "GET from our server: ");
    let out = client(
        cfg.path(),
        &[
            "--cacert",
            ca,
            "-X",
            "POST",
            "-d",
            "a=1",
            "-w",
            " %{http_code}",
            &url,
        ],
    );
    assert_eq!(text(&out.stdout), "POST from our server: a=1 200");
    // curl gets the same over our server.
    let theirs = curl(&["-s", "--cacert", ca, "-d", "a=1", &url]);
    assert_eq!(text(&theirs.stdout), "POST from our server: a=1");
}

#[test]
fn self_signed_from_our_server_is_refused() {
    let port = our_server(&certs().self_signed);
    let cfg = tempfile::tempdir().unwrap();
    let out = client(cfg.path(), &[&format!("https://127.0.0.1:{port}/")]);
    assert_eq!(out.status.code(), Some(60));
    assert!(
        text(&out.stderr).contains("client: (60) SSL certificate problem: self-signed certificate")
    );
    assert!(out.stdout.is_empty());
}
