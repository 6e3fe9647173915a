//! Database administration for operators' scripts and the test harness: create a database
//! (optionally as a copy of a template, which PostgreSQL does at file level, fast), drop one, list
//! them, and point a URL at another database on the same server.

use tokio_postgres::NoTls;

use super::parse_url;
use crate::error::{Error, Result};

/// Checks a database name: 1 to 63 of `a-z 0-9 _`, starting with a letter (so it never needs
/// quoting and never injects).
pub fn validate_database_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::bad_request(
            "invalid-input",
            format!("invalid database name {name:?}: use 1 to 63 of a-z, 0-9 and '_', starting with a letter"),
        ))
    }
}

/// `url` with its database replaced by `name` (user, host, port and parameters kept).
pub fn with_database(url: &str, name: &str) -> Result<String> {
    validate_database_name(name)?;
    parse_url(url)?;
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or(before_query);
    let mut result = format!("{scheme}://{authority}/{name}");
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    Ok(result)
}

async fn connect(url: &str) -> Result<tokio_postgres::Client> {
    let (client, connection) = parse_url(url)?.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "administration connection ended");
        }
    });
    Ok(client)
}

/// Creates database `name` on the server of `url` (connecting to `url`'s own database to do so),
/// as a copy of `template` when given. The template must have no open connection.
pub async fn create_database(url: &str, name: &str, template: Option<&str>) -> Result<()> {
    validate_database_name(name)?;
    let client = connect(url).await?;
    let sql = match template {
        Some(template) => {
            validate_database_name(template)?;
            format!("CREATE DATABASE {name} TEMPLATE {template}")
        }
        None => format!("CREATE DATABASE {name}"),
    };
    client.batch_execute(&sql).await?;
    Ok(())
}

/// Makes commits of database `name` return before their WAL reaches the disk
/// (`synchronous_commit = off`) for the connections opened from now on. For test databases only:
/// a crash of the PostgreSQL server (not of a relay) may then lose the last commits.
pub async fn relax_durability(url: &str, name: &str) -> Result<()> {
    validate_database_name(name)?;
    let client = connect(url).await?;
    client.batch_execute(&format!("ALTER DATABASE {name} SET synchronous_commit = off")).await?;
    Ok(())
}

/// Drops database `name` on the server of `url` if it exists, closing its connections first.
pub async fn drop_database(url: &str, name: &str) -> Result<()> {
    validate_database_name(name)?;
    let client = connect(url).await?;
    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    Ok(())
}

/// Names of the databases on the server of `url` that start with `prefix`, sorted.
pub async fn databases_with_prefix(url: &str, prefix: &str) -> Result<Vec<String>> {
    let client = connect(url).await?;
    let pattern = format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let rows =
        client.query("SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname", &[&pattern]).await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_points_at_another_database_keeping_the_rest() {
        let moved = |url: &str| with_database(url, "relay_2").ok();
        assert_eq!(
            moved("postgres://app@127.0.0.1:5432/test").as_deref(),
            Some("postgres://app@127.0.0.1:5432/relay_2")
        );
        assert_eq!(moved("postgres://app@db").as_deref(), Some("postgres://app@db/relay_2"));
        assert_eq!(
            moved("postgresql://app:pw@db/x?sslmode=disable").as_deref(),
            Some("postgresql://app:pw@db/relay_2?sslmode=disable")
        );
        assert!(with_database("postgres://db/x", "Robert'); DROP TABLE students;--").is_err());
        assert!(validate_database_name("1abc").is_err());
        assert!(validate_database_name("fieldsync_t_1").is_ok());
    }
}
