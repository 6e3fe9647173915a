//! The `fieldsync-server` command line: admin commands, exit codes, and `serve` on a real socket.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

fn relay_bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fieldsync-server"));
    command.env_remove("FIELDSYNC_DATA").env_remove("FIELDSYNC_DATABASE").env_remove("FIELDSYNC_LISTEN");
    command
}

fn run(data: &std::path::Path, args: &[&str]) -> Output {
    relay_bin().arg("admin").arg("--data").arg(data).args(args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn admin_commands_create_and_list_users_and_refuse_bad_values_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ok = run(&data, &["create-tenant", "acme"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let ok = run(
        &data,
        &[
            "create-user",
            "--tenant",
            "acme",
            "--username",
            "anna",
            "--password",
            "long enough",
            "--role",
            "rep",
            "--region",
            "north",
        ],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));

    let listed = run(&data, &["list-users", "--tenant", "acme"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("anna") && text.contains("rep") && text.contains("north"), "{text}");

    for (args, expected) in [
        (vec!["create-tenant", "acme"], "tenant acme already exists"),
        (vec!["create-tenant", "Bad Name"], "invalid tenant name"),
        (
            vec!["create-user", "--tenant", "acme", "--username", "bob", "--password", "long enough", "--role", "boss"],
            "unknown role \"boss\"",
        ),
        (
            vec!["create-user", "--tenant", "acme", "--username", "bob", "--password", "short", "--role", "hq"],
            "at least 8 characters",
        ),
        (
            vec!["create-user", "--tenant", "nope", "--username", "bob", "--password", "long enough", "--role", "hq"],
            "tenant nope not found",
        ),
        (vec!["revoke-device", "--tenant", "acme", "--device", "d-404"], "device d-404 not found"),
    ] {
        let output = run(&data, &args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(expected), "{args:?}: {}", stderr(&output));
    }

    let revoked = run(&data, &["revoke-user", "--tenant", "acme", "--username", "anna"]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    let listed = run(&data, &["list-users", "--tenant", "acme"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("disabled"));
}

#[test]
fn tenants_get_a_time_zone_and_currency_at_creation_or_later_and_bad_ones_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let stdout = |output: &Output| {
        assert!(output.status.success(), "{}", stderr(output));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let created = run(&data, &["create-tenant", "acme", "--time-zone", "Asia/Shanghai", "--currency", "cny"]);
    assert!(stdout(&created).contains("time zone Asia/Shanghai, currency CNY"), "{}", stdout(&created));
    let plain = run(&data, &["create-tenant", "plain"]);
    assert!(stdout(&plain).contains("time zone UTC, currency USD"), "{}", stdout(&plain));

    for (args, expected) in [
        (vec!["create-tenant", "mars", "--time-zone", "Mars/Olympus"], "unknown time zone \"Mars/Olympus\""),
        (vec!["set-tenant", "acme", "--time-zone", "Europe/Berlin", "--currency", "JPY"], "JPY has 0 decimal places"),
        (vec!["set-tenant", "acme", "--currency", "EURO"], "unknown currency \"EURO\""),
        (vec!["set-tenant", "nope", "--currency", "EUR"], "tenant nope not found"),
        (vec!["set-tenant", "acme"], "--time-zone"),
    ] {
        let output = run(&data, &args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(expected), "{args:?}: {}", stderr(&output));
    }
    // Nothing was changed or created by the refused commands.
    let again = run(&data, &["create-tenant", "mars"]);
    assert!(stdout(&again).contains("created tenant mars"));
    let kept = run(&data, &["set-tenant", "acme", "--currency", "CNY"]);
    assert!(stdout(&kept).contains("tenant acme: time zone Asia/Shanghai, currency CNY"), "{}", stdout(&kept));
    let moved = run(&data, &["set-tenant", "acme", "--time-zone", "Europe/Berlin"]);
    assert!(stdout(&moved).contains("tenant acme: time zone Europe/Berlin, currency CNY"), "{}", stdout(&moved));
}

#[test]
fn a_tenants_default_language_is_set_at_creation_or_later_and_a_language_not_spoken_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let stdout = |output: &Output| {
        assert!(output.status.success(), "{}", stderr(output));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let created = run(&data, &["create-tenant", "acme", "--currency", "CNY", "--language", "zh"]);
    assert!(stdout(&created).contains("currency CNY, language zh-CN"), "{}", stdout(&created));
    for args in [
        vec!["create-tenant", "globex", "--language", "fr"],
        vec!["set-tenant", "acme", "--currency", "EUR", "--language", "klingon"],
    ] {
        let output = run(&data, &args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains("is not spoken here (use en or zh-CN)"), "{args:?}: {}", stderr(&output));
    }
    // Neither refusal created the tenant or changed the currency.
    assert!(stdout(&run(&data, &["create-tenant", "globex"])).contains("created tenant globex"));
    let english = run(&data, &["set-tenant", "acme", "--language", "en"]);
    assert!(stdout(&english).contains("tenant acme: time zone UTC, currency CNY, language en"), "{}", stdout(&english));
}

#[test]
fn unsupported_database_urls_and_a_missing_data_dir_are_refused_clearly() {
    let output = relay_bin().args(["serve", "--data", "x", "--database", "mysql://app:pw@db/x"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unsupported --database"), "{}", stderr(&output));
    assert!(!stderr(&output).contains(":pw@"), "the password is shown: {}", stderr(&output));
    let output = relay_bin().args(["serve", "--database", "postgres://localhost/fieldsync"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("missing --data DIR"), "{}", stderr(&output));
    let output = relay_bin().args(["admin", "create-tenant", "acme"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("missing --data DIR"), "{}", stderr(&output));
    let output = relay_bin().args(["serve", "--bogus"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http(address: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serve_prints_its_real_port_and_answers_health_checks_and_logins_on_a_socket() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(run(&data, &["create-tenant", "acme"]).status.success());
    let created = run(
        &data,
        &["create-user", "--tenant", "acme", "--username", "hana", "--password", "long enough", "--role", "hq"],
    );
    assert!(created.status.success(), "{}", stderr(&created));

    let child = relay_bin()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("FIELDSYNC_DATA", &data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let address = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line:?}")).to_owned();
    assert!(!address.ends_with(":0"), "{address}");

    let health = http(&address, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with(r#"{"status":"ok"}"#), "{health}");

    let body = r#"{"tenant":"acme","username":"hana","password":"long enough","device_name":"curl"}"#;
    let login = http(
        &address,
        &format!(
            "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    assert!(login.contains("\"token\""), "{login}");

    let head =
        http(&address, &format!("HEAD /v1/blobs/{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "a".repeat(64)));
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
}

#[test]
fn rebuild_projections_derives_the_read_model_of_one_tenant_or_of_every_tenant_with_documents() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let seeded = run(&data, &["seed-demo"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));

    let one = run(&data, &["rebuild-projections", "--tenant", "demo"]);
    assert!(one.status.success(), "{}", stderr(&one));
    let text = String::from_utf8_lossy(&one.stdout);
    assert!(text.contains("rebuilt the read model of tenant demo from"), "{text}");

    let every = run(&data, &["rebuild-projections"]);
    assert!(every.status.success(), "{}", stderr(&every));
    assert_eq!(String::from_utf8_lossy(&every.stdout).lines().count(), 1, "one tenant has documents");

    let unknown = run(&data, &["rebuild-projections", "--tenant", "nope"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("tenant nope not found"), "{}", stderr(&unknown));
}
