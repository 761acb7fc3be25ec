//! Configuration from environment variables, read once at start-up.
//!
//! Every problem is reported with the variable's name and the value that was refused, so a
//! misconfigured Pod fails fast with a readable log line instead of a panic backtrace.

use std::{collections::HashMap, fmt, net::SocketAddr, time::Duration};

use crate::defaults::DEFAULT_PORT;

/// Settings of the running service.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// Address the HTTP server binds to (`BIND_ADDRESS`, default `0.0.0.0`, and `PORT`).
    pub listen_addr: SocketAddr,
    /// Upper bound for handling one request (`REQUEST_TIMEOUT_SECS`, default 10).
    pub request_timeout: Duration,
    /// Time allowed for in-flight requests after SIGTERM (`SHUTDOWN_TIMEOUT_SECS`, default 20).
    pub shutdown_timeout: Duration,
    /// `tracing` filter directives (`RUST_LOG`, default `info`).
    pub log_filter: String,
    /// Optional connection string for a database, provided by the Kubernetes Secret.
    pub database_url: Option<String>,
}

// Written by hand so that secrets never reach a log line.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen_addr", &self.listen_addr)
            .field("request_timeout", &self.request_timeout)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("log_filter", &self.log_filter)
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A variable that is set but cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name} must be {expected}, got {value:?}")]
    Invalid {
        name: &'static str,
        expected: &'static str,
        value: String,
    },
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the configuration from the given variables (testable without touching the process).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let vars: HashMap<String, String> = vars.into_iter().collect();
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let port = match get("PORT") {
            None => DEFAULT_PORT,
            Some(value) => value
                .parse::<u16>()
                .ok()
                .filter(|port| *port > 0)
                .ok_or_else(|| invalid("PORT", "a port number between 1 and 65535", value))?,
        };
        let ip = match get("BIND_ADDRESS") {
            None => [0, 0, 0, 0].into(),
            Some(value) => value
                .parse()
                .map_err(|_| invalid("BIND_ADDRESS", "an IPv4 or IPv6 address", value))?,
        };
        Ok(Self {
            listen_addr: SocketAddr::new(ip, port),
            request_timeout: seconds(get("REQUEST_TIMEOUT_SECS"), "REQUEST_TIMEOUT_SECS", 10)?,
            shutdown_timeout: seconds(get("SHUTDOWN_TIMEOUT_SECS"), "SHUTDOWN_TIMEOUT_SECS", 20)?,
            log_filter: get("RUST_LOG").unwrap_or("info").to_owned(),
            database_url: get("DATABASE_URL").map(str::to_owned),
        })
    }
}

fn seconds(value: Option<&str>, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(Duration::from_secs(default)),
        Some(value) => value
            .parse::<u64>()
            .ok()
            .filter(|secs| (1..=3600).contains(secs))
            .map(Duration::from_secs)
            .ok_or_else(|| invalid(name, "a whole number of seconds between 1 and 3600", value)),
    }
}

fn invalid(name: &'static str, expected: &'static str, value: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        expected,
        value: value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = Config::from_vars(vars(&[])).unwrap();
        assert_eq!(config.listen_addr.port(), DEFAULT_PORT);
        assert_eq!(config.request_timeout, Duration::from_secs(10));
        assert_eq!(config.log_filter, "info");
        assert_eq!(config.database_url, None);
    }

    #[test]
    fn reads_values_from_the_environment() {
        let config = Config::from_vars(vars(&[
            ("PORT", "9000"),
            ("BIND_ADDRESS", "127.0.0.1"),
            ("REQUEST_TIMEOUT_SECS", "3"),
            ("DATABASE_URL", "postgres://db"),
        ]))
        .unwrap();
        assert_eq!(config.listen_addr, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(config.request_timeout, Duration::from_secs(3));
        assert_eq!(config.database_url.as_deref(), Some("postgres://db"));
    }

    #[test]
    fn refuses_a_bad_port_with_a_clear_message() {
        let err = Config::from_vars(vars(&[("PORT", "http")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "PORT must be a port number between 1 and 65535, got \"http\""
        );
        assert!(Config::from_vars(vars(&[("PORT", "0")])).is_err());
        assert!(Config::from_vars(vars(&[("PORT", "70000")])).is_err());
    }

    #[test]
    fn refuses_a_bad_timeout() {
        let err = Config::from_vars(vars(&[("REQUEST_TIMEOUT_SECS", "0")])).unwrap_err();
        assert!(err.to_string().starts_with("REQUEST_TIMEOUT_SECS must be"));
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let config = Config::from_vars(vars(&[("DATABASE_URL", "postgres://user:pw@db")])).unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("pw@db"));
        assert!(printed.contains("<redacted>"));
    }
}
