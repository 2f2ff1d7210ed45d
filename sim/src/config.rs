//! How one simulated Magento installation behaves: seed data, credentials, and the switches
//! that real installations differ in (input limits, 2FA, token format, PUT semantics, ...).

use clap::{Args, ValueEnum};

/// An on/off switch as Magento's admin configuration shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

impl Switch {
    /// True when on.
    pub fn on(self) -> bool {
        self == Switch::On
    }
}

/// Which token issuer the installation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenFormat {
    /// Legacy 32-character tokens (admin 4 h, customer 1 h).
    Opaque,
    /// Magento_JwtUserToken, 2.4.4+ (admin and customer 60 min).
    Jwt,
}

/// What `PUT /V1/customers/{id}` does with the fields a request leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PutMode {
    /// 2.4.1+: supplied fields merge onto the stored customer.
    Merge,
    /// Before 2.4.1: a full save that needs email, firstname, lastname and website_id.
    Replace,
}

/// What a page past the last one answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PastEnd {
    /// 2.4.x: an empty `items` list (total_count unchanged).
    Empty,
    /// Before 2.4: the last page again.
    LastPage,
}

/// Whether the `async.operations.all` consumer processes bulk operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Consumer {
    /// Operations are applied in the background shortly after they are queued.
    Running,
    /// Operations stay open (status 4) until the consumer is started.
    Stopped,
}

/// Everything that shapes one simulated installation.
#[derive(Debug, Clone, Args)]
pub struct SimConfig {
    /// Seed this many deterministic customers (both websites, addresses, spread timestamps).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub seed_customers: usize,

    /// The administrator account (role "Administrators", full ACL).
    #[arg(long, default_value = "admin:Admin123!", value_name = "USER:PASSWORD", value_parser = parse_pair)]
    pub admin: (String, String),

    /// A storefront customer (website base) who can log in; repeat for more.
    #[arg(long = "customer", value_name = "EMAIL:PASSWORD", value_parser = parse_pair)]
    pub customers: Vec<(String, String)>,

    /// Create an integration with full customer and admin-user ACL and print its OAuth values.
    #[arg(long = "integration", value_name = "NAME")]
    pub integrations: Vec<String>,

    /// `oauth/consumer/enable_integration_as_bearer`: accept integration access tokens as bearer tokens.
    #[arg(
        long,
        value_enum,
        default_value = "off",
        value_name = "on|off",
        hide_possible_values = true
    )]
    pub integration_bearer: Switch,

    /// `webapi/validation/input_limit_enabled`: page size at most 300, default 20.
    #[arg(
        long,
        value_enum,
        default_value = "off",
        value_name = "on|off",
        hide_possible_values = true
    )]
    pub input_limits: Switch,

    /// Magento_TwoFactorAuth: admin token login answers the 2FA 400.
    #[arg(
        long,
        value_enum,
        default_value = "off",
        value_name = "on|off",
        hide_possible_values = true
    )]
    pub two_factor: Switch,

    /// Token issuer: legacy opaque tokens or JWTs.
    #[arg(long, value_enum, default_value = "opaque", value_name = "opaque|jwt")]
    pub token_format: TokenFormat,

    /// Admin token lifetime, e.g. `90s`, `30m`, `4h` (default: 4h opaque, 60m jwt).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub admin_token_ttl: Option<i64>,

    /// Customer token lifetime, e.g. `90s`, `30m`, `1h` (default: 1h opaque, 60m jwt).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub customer_token_ttl: Option<i64>,

    /// The bulk consumer (`async.operations.all`).
    #[arg(
        long,
        value_enum,
        default_value = "running",
        value_name = "running|stopped"
    )]
    pub consumer: Consumer,

    /// PUT semantics: 2.4.1+ merge, or the older full save.
    #[arg(
        long,
        value_enum,
        default_value = "merge",
        value_name = "merge|replace"
    )]
    pub put_mode: PutMode,

    /// A search page past the end: empty (2.4.x) or the last page again (before 2.4).
    #[arg(
        long,
        value_enum,
        default_value = "empty",
        value_name = "empty|last-page"
    )]
    pub past_end: PastEnd,

    /// The admin-user extension endpoints (`/V1/users`, `/V1/roles`); off answers 404.
    #[arg(
        long,
        value_enum,
        default_value = "on",
        value_name = "on|off",
        hide_possible_values = true
    )]
    pub admin_users_api: Switch,

    /// `checkout/options/enable_guest_checkout_login`: off makes isEmailAvailable always true (2.4.7+).
    #[arg(
        long,
        value_enum,
        default_value = "off",
        value_name = "on|off",
        hide_possible_values = true
    )]
    pub guest_checkout_login: Switch,

    /// POST Adobe Commerce style signed webhooks on customer save, register and delete to this URL.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed_customers: 0,
            admin: ("admin".into(), "Admin123!".into()),
            customers: Vec::new(),
            integrations: Vec::new(),
            integration_bearer: Switch::Off,
            input_limits: Switch::Off,
            two_factor: Switch::Off,
            token_format: TokenFormat::Opaque,
            admin_token_ttl: None,
            customer_token_ttl: None,
            consumer: Consumer::Running,
            put_mode: PutMode::Merge,
            past_end: PastEnd::Empty,
            admin_users_api: Switch::On,
            guest_checkout_login: Switch::Off,
            webhook_url: None,
        }
    }
}

impl SimConfig {
    /// Admin token lifetime in seconds.
    pub fn admin_ttl(&self) -> i64 {
        self.admin_token_ttl.unwrap_or(match self.token_format {
            TokenFormat::Opaque => 4 * 3600,
            TokenFormat::Jwt => 3600,
        })
    }

    /// Customer token lifetime in seconds.
    pub fn customer_ttl(&self) -> i64 {
        self.customer_token_ttl.unwrap_or(3600)
    }
}

/// Splits `NAME:SECRET` at the first colon.
pub fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_owned(), b.to_owned())),
        _ => Err(format!("expected NAME:PASSWORD, got {s:?}")),
    }
}

/// Parses `90s`, `30m`, `4h` or `1d` into seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration: write a number with s, m, h or d"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "" => return Err(format!("{s:?} has no unit: write e.g. {n}s, {n}m or {n}h")),
        other => return Err(format!("unknown unit {other:?} in {s:?}: use s, m, h or d")),
    };
    if n <= 0 {
        return Err(format!("{s:?} must be positive"));
    }
    Ok(n * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("4h"), Ok(14_400));
        assert!(parse_duration("60").unwrap_err().contains("no unit"));
        assert!(parse_duration("5y").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn default_lifetimes_follow_the_token_format() {
        let mut c = SimConfig::default();
        assert_eq!(c.admin_ttl(), 14_400);
        c.token_format = TokenFormat::Jwt;
        assert_eq!(c.admin_ttl(), 3600);
        assert_eq!(c.customer_ttl(), 3600);
    }
}
