//! The Magento connection from flags or environment. Secrets are read from the environment
//! (or flags) and handed to the client; they are never printed.

use clap::Args;
use mageflow_magento::{Auth, Connection, OAuthKeys};

use crate::Usage;

/// Where Magento is and how to authenticate (flags override the environment).
#[derive(Debug, Args, Clone)]
pub(crate) struct ConnArgs {
    /// Magento base URL, e.g. https://shop.example.com
    #[arg(long, env = "MAGEFLOW_MAGENTO_URL", global = true, value_name = "URL")]
    url: Option<String>,
    /// Store view code for /rest/<code>/V1 (default store when absent).
    #[arg(long, env = "MAGEFLOW_STORE", global = true, value_name = "CODE")]
    store: Option<String>,
    /// Admin username (with MAGEFLOW_ADMIN_PASSWORD).
    #[arg(long, env = "MAGEFLOW_ADMIN_USER", global = true, value_name = "USER")]
    admin_user: Option<String>,
    /// Admin password (prefer the environment: flags show in `ps`).
    #[arg(
        long,
        env = "MAGEFLOW_ADMIN_PASSWORD",
        global = true,
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    admin_password: Option<String>,
    /// Integration access token used as a bearer token.
    #[arg(
        long,
        env = "MAGEFLOW_INTEGRATION_TOKEN",
        global = true,
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    integration_token: Option<String>,
    /// Integration consumer key (OAuth 1.0a, with the three values below).
    #[arg(long, env = "MAGEFLOW_CONSUMER_KEY", global = true, value_name = "KEY")]
    consumer_key: Option<String>,
    /// Integration consumer secret.
    #[arg(
        long,
        env = "MAGEFLOW_CONSUMER_SECRET",
        global = true,
        hide_env_values = true,
        value_name = "SECRET"
    )]
    consumer_secret: Option<String>,
    /// Integration access token (OAuth 1.0a).
    #[arg(
        long,
        env = "MAGEFLOW_ACCESS_TOKEN",
        global = true,
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    access_token: Option<String>,
    /// Integration access token secret (OAuth 1.0a).
    #[arg(
        long,
        env = "MAGEFLOW_ACCESS_TOKEN_SECRET",
        global = true,
        hide_env_values = true,
        value_name = "SECRET"
    )]
    access_token_secret: Option<String>,
    /// Customer email, for the customer's own record (with MAGEFLOW_CUSTOMER_PASSWORD).
    #[arg(
        long,
        env = "MAGEFLOW_CUSTOMER_EMAIL",
        global = true,
        value_name = "EMAIL"
    )]
    customer_email: Option<String>,
    /// Customer password.
    #[arg(
        long,
        env = "MAGEFLOW_CUSTOMER_PASSWORD",
        global = true,
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    customer_password: Option<String>,
    /// Most requests per second sent to Magento.
    #[arg(
        long,
        env = "MAGEFLOW_RATE_LIMIT",
        global = true,
        value_name = "PER_SECOND"
    )]
    rate_limit: Option<f64>,
    /// Most requests in flight at once [default: 8]
    #[arg(long, env = "MAGEFLOW_CONCURRENCY", global = true, value_name = "N")]
    concurrency: Option<usize>,
}

impl ConnArgs {
    /// These settings, with what flags and the environment left unset taken from the
    /// configuration file.
    fn with_config(&self) -> Result<ConnArgs, Usage> {
        use crate::config::var;
        let mut c = self.clone();
        let fill = |field: &mut Option<String>, name: &str| {
            if field.is_none() {
                *field = var(name);
            }
        };
        fill(&mut c.url, "MAGEFLOW_MAGENTO_URL");
        fill(&mut c.store, "MAGEFLOW_STORE");
        fill(&mut c.admin_user, "MAGEFLOW_ADMIN_USER");
        fill(&mut c.admin_password, "MAGEFLOW_ADMIN_PASSWORD");
        fill(&mut c.integration_token, "MAGEFLOW_INTEGRATION_TOKEN");
        fill(&mut c.consumer_key, "MAGEFLOW_CONSUMER_KEY");
        fill(&mut c.consumer_secret, "MAGEFLOW_CONSUMER_SECRET");
        fill(&mut c.access_token, "MAGEFLOW_ACCESS_TOKEN");
        fill(&mut c.access_token_secret, "MAGEFLOW_ACCESS_TOKEN_SECRET");
        if c.rate_limit.is_none()
            && let Some(r) = var("MAGEFLOW_RATE_LIMIT")
        {
            c.rate_limit =
                Some(r.parse().map_err(|_| {
                    Usage(format!("the configured rate limit {r:?} is not a number"))
                })?);
        }
        if c.concurrency.is_none()
            && let Some(n) = var("MAGEFLOW_CONCURRENCY")
        {
            c.concurrency = Some(n.parse().map_err(|_| {
                Usage(format!(
                    "the configured concurrency {n:?} is not a whole number"
                ))
            })?);
        }
        Ok(c)
    }

    /// The connection, or a usage error naming what is missing.
    pub(crate) fn connection(&self) -> Result<Connection, Usage> {
        self.with_config()?.resolve()
    }

    fn resolve(&self) -> Result<Connection, Usage> {
        let url = self.url.clone().ok_or_else(|| {
            Usage("no Magento URL: set MAGEFLOW_MAGENTO_URL or pass --url".into())
        })?;
        let oauth = [
            &self.consumer_key,
            &self.consumer_secret,
            &self.access_token,
            &self.access_token_secret,
        ];
        let given = oauth.iter().filter(|v| v.is_some()).count();
        let auth = if given == 4 {
            Auth::OAuth(OAuthKeys {
                consumer_key: self.consumer_key.clone().unwrap_or_default(),
                consumer_secret: self.consumer_secret.clone().unwrap_or_default(),
                access_token: self.access_token.clone().unwrap_or_default(),
                access_token_secret: self.access_token_secret.clone().unwrap_or_default(),
            })
        } else if given > 0 {
            let names = [
                "MAGEFLOW_CONSUMER_KEY",
                "MAGEFLOW_CONSUMER_SECRET",
                "MAGEFLOW_ACCESS_TOKEN",
                "MAGEFLOW_ACCESS_TOKEN_SECRET",
            ];
            let missing: Vec<&str> = oauth
                .iter()
                .zip(names)
                .filter(|(v, _)| v.is_none())
                .map(|(_, n)| n)
                .collect();
            return Err(Usage(format!(
                "OAuth needs all four integration values; missing {}",
                missing.join(", ")
            )));
        } else if let Some(token) = &self.integration_token {
            Auth::Bearer(token.clone())
        } else if let (Some(username), Some(password)) = (&self.admin_user, &self.admin_password) {
            Auth::Admin {
                username: username.clone(),
                password: password.clone(),
            }
        } else if let (Some(email), Some(password)) =
            (&self.customer_email, &self.customer_password)
        {
            Auth::Customer {
                email: email.clone(),
                password: password.clone(),
            }
        } else if self.admin_user.is_some() {
            return Err(Usage(
                "MAGEFLOW_ADMIN_USER is set but MAGEFLOW_ADMIN_PASSWORD is not".into(),
            ));
        } else {
            return Err(Usage(
                "no credentials: set MAGEFLOW_ADMIN_USER and MAGEFLOW_ADMIN_PASSWORD, or MAGEFLOW_INTEGRATION_TOKEN, \
                 or the four OAuth values MAGEFLOW_CONSUMER_KEY, MAGEFLOW_CONSUMER_SECRET, MAGEFLOW_ACCESS_TOKEN, MAGEFLOW_ACCESS_TOKEN_SECRET"
                    .into(),
            ));
        };
        let mut conn = Connection::new(url, auth);
        conn.store = self.store.clone();
        conn.rate_limit = self.rate_limit;
        conn.concurrency = self.concurrency.unwrap_or(8);
        Ok(conn)
    }
}
