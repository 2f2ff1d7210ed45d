//! `mageflow.toml`: the data directory, listen address, Magento connection, approvers and
//! default limits in one file. Flags win over `MAGEFLOW_*` environment variables, which win
//! over the file, which wins over the built-in defaults.
//!
//! Secrets are never written in the file itself: each is named as `{ env = "VAR" }` or
//! `{ file = "/path" }`, and a file must be readable by its owner only (mode 0600 or 0400),
//! or it is refused with the reason.
//!
//! ```toml
//! data-dir = "/var/lib/mageflow"
//! # PostgreSQL instead of sled in the data directory (the URL may hold a password), shared
//! # by several workers, each holding its runs under a lease of this length.
//! store = { url = { env = "MAGEFLOW_STORE_URL" }, lease = "60s" }
//! workflows = "/etc/mageflow/workflows"
//! listen = "127.0.0.1:7878"
//!
//! [magento]
//! url = "https://shop.example.com"
//! store = "default"
//! integration-token = { file = "/etc/mageflow/magento-token" }
//!
//! # Tokens for the demo and tests; real ones come from `mageflow tokens create`.
//! [approvers]
//! alice = { file = "/etc/mageflow/approvers/alice" }
//! bob = { env = "MAGEFLOW_TOKEN_BOB" }
//!
//! [access]
//! metrics = "open"          # or "token" (the default): /metrics needs a token
//! secure-cookies = true     # the pages are served over https (directly or by a proxy)
//! session-idle = "30m"      # a page session nobody uses ends after this
//! session-max = "12h"       # and every session after this
//!
//! # Single sign-on for the pages (OpenID Connect); the CLI and API keep bearer tokens.
//! [sso]
//! issuer = "https://login.example.com"
//! client-id = "mageflow"
//! client-secret = { env = "MAGEFLOW_SSO_SECRET" }
//! redirect-url = "https://mageflow.example.com/ui/sso/callback"
//! groups-claim = "groups"              # the default
//! username-claim = "email"             # the default; or preferred_username, sub, ...
//! scopes = ["profile", "email"]        # the default, besides openid
//! [sso.roles]
//! "mageflow-approvers" = ["approver", "viewer"]
//! "mageflow-operators" = ["operator", "viewer"]
//!
//! [limits]
//! wall-time = "5m"
//! memory-mib = 128
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mageflow_server::scim::config::{GroupMap, Risk, RootConfig, ScimConfig, Target};
use serde::Deserialize;

use crate::Usage;

/// Where a secret comes from: `{ env = "VAR" }` or `{ file = "/path" }`. Anything else
/// (a secret written inline, above all) is kept only to be refused with the reason.
#[derive(Clone, Deserialize)]
#[serde(untagged)]
enum Secret {
    Source(Source),
    Other(#[expect(dead_code, reason = "only its presence matters: it is refused")] toml::Value),
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    env: Option<String>,
    file: Option<PathBuf>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MagentoFile {
    url: Option<String>,
    store: Option<String>,
    admin_user: Option<String>,
    admin_password: Option<Secret>,
    integration_token: Option<Secret>,
    consumer_key: Option<Secret>,
    consumer_secret: Option<Secret>,
    access_token: Option<Secret>,
    access_token_secret: Option<Secret>,
    rate_limit: Option<f64>,
    concurrency: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct LimitsFile {
    wall_time: Option<String>,
    memory_mib: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct AccessFile {
    metrics: Option<String>,
    secure_cookies: Option<bool>,
    session_idle: Option<String>,
    session_max: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SsoFile {
    issuer: String,
    client_id: String,
    client_secret: Secret,
    redirect_url: String,
    groups_claim: Option<String>,
    username_claim: Option<String>,
    scopes: Option<Vec<String>>,
    #[serde(default)]
    roles: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ScimGroupFile {
    group: String,
    #[serde(alias = "role", alias = "customer-group")]
    to: u32,
    #[serde(default)]
    privileged: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ScimRootFile {
    #[serde(default = "yes")]
    enabled: bool,
    workflow: Option<String>,
    approve: Option<Vec<String>>,
    #[serde(default)]
    groups: Vec<ScimGroupFile>,
    #[serde(alias = "default-role")]
    default_group: Option<u32>,
    inactive_group: Option<u32>,
    website_id: Option<u32>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ScimFile {
    admin: Option<ScimRootFile>,
    customers: Option<ScimRootFile>,
}

impl ScimFile {
    fn read(self, shown: &str) -> Result<ScimConfig, Usage> {
        let mut roots = Vec::new();
        for (target, file) in [
            (Target::Admin, self.admin),
            (Target::Customers, self.customers),
        ] {
            let Some(f) = file.filter(|f| f.enabled) else {
                continue;
            };
            let name = target.name();
            let workflow = f.workflow.unwrap_or_else(|| format!("scim-{name}"));
            let mut root = RootConfig::new(target, &workflow);
            if let Some(list) = f.approve {
                root.approve = list
                    .iter()
                    .map(|r| Risk::parse(r).map_err(|e| Usage(format!("{shown}: scim.{name}.{e}"))))
                    .collect::<Result<_, _>>()?;
            }
            root.groups = f
                .groups
                .into_iter()
                .map(|g| GroupMap {
                    group: g.group,
                    target: g.to,
                    privileged: g.privileged,
                })
                .collect();
            match (target, f.default_group) {
                (_, Some(g)) => root.default_target = g,
                (Target::Admin, None) => {
                    return Err(Usage(format!(
                        "{shown}: scim.admin needs default-role, the admin role id of a user in no mapped group (a role with few permissions)"
                    )));
                }
                (Target::Customers, None) => {}
            }
            if target == Target::Customers {
                root.inactive_group = f.inactive_group.ok_or_else(|| {
                    Usage(format!(
                        "{shown}: scim.customers needs inactive-group, the customer group id a deactivated customer is moved to (core Magento has no active flag for customers)"
                    ))
                })?;
            }
            if let Some(w) = f.website_id {
                root.website_id = w;
            }
            roots.push(root);
        }
        Ok(ScimConfig { roots })
    }
}

/// `store = { url = { env = "MAGEFLOW_STORE_URL" } }`: PostgreSQL instead of sled. The URL
/// may hold a password, so it is a secret.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    url: Option<Secret>,
    lease: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    data_dir: Option<PathBuf>,
    #[serde(default)]
    store: StoreFile,
    workflows: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
    listen: Option<String>,
    server: Option<String>,
    #[serde(default)]
    magento: MagentoFile,
    #[serde(default)]
    approvers: BTreeMap<String, Secret>,
    #[serde(default)]
    limits: LimitsFile,
    #[serde(default)]
    access: AccessFile,
    sso: Option<SsoFile>,
    #[serde(default)]
    scim: ScimFile,
}

/// The loaded configuration: every value under the `MAGEFLOW_*` name it stands in for.
#[derive(Default)]
pub(crate) struct Config {
    /// Where it was read from, if anywhere.
    pub(crate) path: Option<PathBuf>,
    values: BTreeMap<&'static str, String>,
    /// Default limits for workflows that set none.
    pub(crate) limits: mageflow_runtime::Limits,
    /// Single sign-on, when `[sso]` is set.
    pub(crate) sso: Option<mageflow_server::SsoConfig>,
    /// The SCIM roots (`[scim.admin]`, `[scim.customers]`).
    pub(crate) scim: ScimConfig,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: some values are secrets.
        f.debug_struct("Config")
            .field("path", &self.path)
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

static CONFIG: OnceLock<Config> = OnceLock::new();

/// The configuration loaded at start (empty before, or when there is no file).
pub(crate) fn get() -> &'static Config {
    CONFIG.get_or_init(Config::default)
}

/// A `MAGEFLOW_*` setting: from the environment, else from the configuration file.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .or_else(|| get().values.get(name).cloned())
}

/// A setting given by a flag or the environment (`given`, as clap read it), else the
/// configuration file's value for `name`, else `default`.
pub(crate) fn pick<T: From<String>>(given: Option<T>, name: &str, default: &str) -> T {
    given
        .or_else(|| get().values.get(name).cloned().map(T::from))
        .unwrap_or_else(|| T::from(default.to_owned()))
}

/// Loads `path` (`--config` or `MAGEFLOW_CONFIG`), or `./mageflow.toml` when that exists.
pub(crate) fn init(path: Option<&Path>) -> Result<(), Usage> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from("mageflow.toml"), false),
    };
    if !required && !path.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Usage(format!("cannot read {}: {e}", path.display())))?;
    let config = Config::parse(&path, &text, |k| std::env::var(k).ok())?;
    let _ = CONFIG.set(config);
    Ok(())
}

impl Config {
    /// Reads a configuration file's text; secrets named by `env` are looked up with `env`.
    pub(crate) fn parse(
        path: &Path,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, Usage> {
        let shown = path.display();
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start].matches('\n').count() + 1)
                .unwrap_or(0);
            Usage(format!("{shown}:{line}: {}", e.message()))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut values = BTreeMap::new();
        let mut put = |name: &'static str, value: Option<String>| {
            if let Some(v) = value {
                values.insert(name, v);
            }
        };
        let path_text = |p: Option<PathBuf>| p.map(|p| base.join(p).display().to_string());
        put("MAGEFLOW_DATA_DIR", path_text(file.data_dir));
        put("MAGEFLOW_WORKFLOWS", path_text(file.workflows));
        put("MAGEFLOW_CACHE_DIR", path_text(file.cache_dir));
        put("MAGEFLOW_LISTEN", file.listen);
        put("MAGEFLOW_LEASE", file.store.lease);
        put("MAGEFLOW_SERVER", file.server);
        let a = file.access;
        put("MAGEFLOW_METRICS", a.metrics);
        put(
            "MAGEFLOW_SECURE_COOKIES",
            a.secure_cookies.map(|b| b.to_string()),
        );
        put("MAGEFLOW_SESSION_IDLE", a.session_idle);
        put("MAGEFLOW_SESSION_MAX", a.session_max);
        let m = file.magento;
        put("MAGEFLOW_MAGENTO_URL", m.url);
        put("MAGEFLOW_STORE", m.store);
        put("MAGEFLOW_ADMIN_USER", m.admin_user);
        put("MAGEFLOW_RATE_LIMIT", m.rate_limit.map(|r| r.to_string()));
        put("MAGEFLOW_CONCURRENCY", m.concurrency.map(|c| c.to_string()));
        let secrets = [
            (
                "MAGEFLOW_ADMIN_PASSWORD",
                "magento.admin-password",
                m.admin_password,
            ),
            (
                "MAGEFLOW_INTEGRATION_TOKEN",
                "magento.integration-token",
                m.integration_token,
            ),
            (
                "MAGEFLOW_CONSUMER_KEY",
                "magento.consumer-key",
                m.consumer_key,
            ),
            (
                "MAGEFLOW_CONSUMER_SECRET",
                "magento.consumer-secret",
                m.consumer_secret,
            ),
            (
                "MAGEFLOW_ACCESS_TOKEN",
                "magento.access-token",
                m.access_token,
            ),
            (
                "MAGEFLOW_ACCESS_TOKEN_SECRET",
                "magento.access-token-secret",
                m.access_token_secret,
            ),
            ("MAGEFLOW_STORE_URL", "store.url", file.store.url),
        ];
        for (name, key, secret) in secrets {
            if let Some(s) = secret {
                put(name, Some(s.read(&format!("{shown}: {key}"), base, &env)?));
            }
        }
        let mut tokens = Vec::new();
        for (who, secret) in &file.approvers {
            let token = secret.read(&format!("{shown}: approvers.{who}"), base, &env)?;
            tokens.push(format!("{who}={token}"));
        }
        if !tokens.is_empty() {
            put("MAGEFLOW_APPROVER_TOKENS", Some(tokens.join(",")));
        }
        let mut limits = mageflow_runtime::Limits::default();
        let refused = |e: String| Usage(format!("{shown}: limits.{e}"));
        if let Some(w) = &file.limits.wall_time {
            limits.wall_time = mageflow_engine::workflow::wall_time(w).map_err(refused)?;
        }
        if let Some(mib) = file.limits.memory_mib {
            limits.memory_bytes = mageflow_engine::workflow::memory_bytes(mib).map_err(refused)?;
        }
        let sso = file
            .sso
            .map(|f| f.read(&format!("{shown}: sso"), base, &env))
            .transpose()?;
        let scim = file.scim.read(&shown.to_string())?;
        Ok(Config {
            path: Some(path.to_path_buf()),
            values,
            limits,
            sso,
            scim,
        })
    }
}

impl SsoFile {
    fn read(
        self,
        what: &str,
        base: &Path,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<mageflow_server::SsoConfig, Usage> {
        let client_secret = self
            .client_secret
            .read(&format!("{what}.client-secret"), base, env)?;
        for (key, url) in [
            ("issuer", &self.issuer),
            ("redirect-url", &self.redirect_url),
        ] {
            let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
                .iter()
                .any(|p| url.starts_with(p));
            if !url.starts_with("https://") && !loopback {
                return Err(Usage(format!(
                    "{what}.{key} = {url:?}: use an https URL (plain http only on loopback, for tests)"
                )));
            }
        }
        let mut roles = Vec::new();
        for (group, names) in self.roles {
            let parsed = mageflow_server::Role::parse_list(&names.join(","))
                .map_err(|e| Usage(format!("{what}.roles.{group:?}: {e}")))?;
            roles.push((group, parsed));
        }
        if roles.is_empty() {
            return Err(Usage(format!(
                "{what}.roles: map at least one group to roles, as \"mageflow-approvers\" = \
                 [\"approver\", \"viewer\"]; without it nobody could sign in"
            )));
        }
        Ok(mageflow_server::SsoConfig {
            issuer: self.issuer,
            client_id: self.client_id,
            client_secret,
            redirect_url: self.redirect_url,
            groups_claim: self.groups_claim.unwrap_or_else(|| "groups".into()),
            username_claim: self.username_claim.unwrap_or_else(|| "email".into()),
            scopes: self
                .scopes
                .unwrap_or_else(|| vec!["profile".into(), "email".into()]),
            roles,
        })
    }
}

impl Secret {
    /// The secret's value; `what` names it in errors.
    fn read(
        &self,
        what: &str,
        base: &Path,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<String, Usage> {
        let (env_name, file) = match self {
            Secret::Source(s) => (&s.env, &s.file),
            Secret::Other(_) => (&None, &None),
        };
        match (env_name, file) {
            (Some(var), None) => env(var)
                .ok_or_else(|| Usage(format!("{what}: the environment variable {var} is not set"))),
            (None, Some(file)) => read_owner_only(&base.join(file), what),
            _ => Err(Usage(format!(
                "{what}: name the secret's source as {{ env = \"VAR\" }} or {{ file = \"/path\" }}, \
                 one of the two; secrets are never written in the file itself"
            ))),
        }
    }
}

/// A secret file's contents (trimmed), refused unless only its owner may read it.
pub(crate) fn read_owner_only(path: &Path, what: &str) -> Result<String, Usage> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(path)
        .map_err(|e| Usage(format!("{what}: cannot read {}: {e}", path.display())))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Usage(format!(
            "{what}: {} can be read by others (mode {mode:04o}); secrets must be readable by \
             their owner only: chmod 600 {}",
            path.display(),
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Usage(format!("{what}: cannot read {}: {e}", path.display())))?;
    let value = text.trim().to_owned();
    if value.is_empty() {
        return Err(Usage(format!("{what}: {} is empty", path.display())));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mageflow-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn secret_file(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn values_and_secrets_land_under_their_variable_names() {
        let dir = scratch("ok");
        secret_file(&dir, "token", "tok-from-file\n", 0o600);
        let text = r#"
data-dir = "data"
listen = "0.0.0.0:9000"
[magento]
url = "https://shop.example.com"
integration-token = { file = "token" }
[approvers]
alice = { env = "ALICE_TOKEN" }
[limits]
wall-time = "90s"
[store]
url = { env = "PG_URL" }
lease = "2m"
"#;
        let env = |k: &str| match k {
            "ALICE_TOKEN" => Some("alice-secret-0123456789".to_owned()),
            "PG_URL" => Some("postgres://mageflow:pw@db:5432/mageflow".to_owned()),
            _ => None,
        };
        let c = Config::parse(&dir.join("mageflow.toml"), text, env).unwrap();
        assert_eq!(c.values["MAGEFLOW_INTEGRATION_TOKEN"], "tok-from-file");
        assert_eq!(c.values["MAGEFLOW_LISTEN"], "0.0.0.0:9000");
        assert_eq!(
            c.values["MAGEFLOW_DATA_DIR"],
            dir.join("data").display().to_string()
        );
        assert_eq!(
            c.values["MAGEFLOW_APPROVER_TOKENS"],
            "alice=alice-secret-0123456789"
        );
        assert_eq!(c.limits.wall_time, std::time::Duration::from_secs(90));
        assert_eq!(
            c.values["MAGEFLOW_STORE_URL"],
            "postgres://mageflow:pw@db:5432/mageflow"
        );
        assert_eq!(c.values["MAGEFLOW_LEASE"], "2m");
        // Debug shows names, never values.
        assert!(!format!("{c:?}").contains("tok-from-file"));
    }

    #[test]
    fn scim_roots_read_their_mappings_and_approvals_and_refuse_what_would_not_work() {
        let good = r#"
[scim.admin]
default-role = 2
approve = ["create", "role-upgrade"]
groups = [{ group = "Magento Admins", role = 1 }, { group = "Support", role = 2 }]
[scim.customers]
inactive-group = 0
groups = [{ group = "Wholesale", customer-group = 2, privileged = true }]
"#;
        let c = Config::parse(Path::new("m.toml"), good, |_| None).unwrap();
        let admin = c.scim.root("admin").unwrap();
        assert_eq!(admin.workflow, "scim-admin");
        assert_eq!(admin.approve, [Risk::Create, Risk::RoleUpgrade]);
        assert_eq!((admin.groups[0].target, admin.default_target), (1, 2));
        let customers = c.scim.root("customers").unwrap();
        assert_eq!(customers.approve, [Risk::HardDelete, Risk::PrivilegedGroup]);
        assert!(customers.groups[0].privileged);
        let off = Config::parse(
            Path::new("m.toml"),
            "[scim.admin]\nenabled = false\n",
            |_| None,
        )
        .unwrap();
        assert!(off.scim.roots.is_empty());
        for (bad, says) in [
            ("[scim.admin]\n", "needs default-role"),
            ("[scim.customers]\n", "needs inactive-group"),
            (
                "[scim.admin]\ndefault-role = 2\napprove = [\"everything\"]\n",
                "unknown change \"everything\"",
            ),
            ("[scim.admins]\n", "unknown field"),
        ] {
            let e = Config::parse(Path::new("m.toml"), bad, |_| None).unwrap_err();
            assert!(e.to_string().contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn sso_reads_its_secret_by_name_and_refuses_what_would_not_work() {
        let good = r#"
[sso]
issuer = "https://login.example.com"
client-id = "mageflow"
client-secret = { env = "SSO_SECRET" }
redirect-url = "https://mageflow.example.com/ui/sso/callback"
[sso.roles]
"it-approvers" = ["approver", "viewer"]
"#;
        let env = |k: &str| (k == "SSO_SECRET").then(|| "the-client-secret".to_owned());
        let c = Config::parse(Path::new("m.toml"), good, env).unwrap();
        let sso = c.sso.unwrap();
        assert_eq!(sso.client_secret, "the-client-secret");
        assert_eq!(
            (sso.groups_claim.as_str(), sso.username_claim.as_str()),
            ("groups", "email")
        );
        assert_eq!(
            sso.roles,
            vec![(
                "it-approvers".to_owned(),
                vec![
                    mageflow_server::Role::Viewer,
                    mageflow_server::Role::Approver
                ]
            )]
        );
        assert!(!format!("{sso:?}").contains("the-client-secret"));
        for (change, says) in [
            (
                ("{ env = \"SSO_SECRET\" }", "\"inline\""),
                "secrets are never written in the file",
            ),
            (
                ("https://login.example.com", "http://login.example.com"),
                "use an https URL",
            ),
            (
                ("[\"approver\", \"viewer\"]", "[\"boss\"]"),
                "unknown role \"boss\"",
            ),
            (
                ("\"it-approvers\" = [\"approver\", \"viewer\"]", ""),
                "map at least one group",
            ),
        ] {
            let text = good.replace(change.0, change.1);
            let e = Config::parse(Path::new("m.toml"), &text, env).unwrap_err();
            assert!(e.0.contains(says), "{change:?}: {}", e.0);
        }
    }

    #[test]
    fn a_secret_file_others_can_read_is_refused() {
        let dir = scratch("mode");
        secret_file(&dir, "pw", "hunter2", 0o644);
        let text = "[magento]\nadmin-user = \"ops\"\nadmin-password = { file = \"pw\" }\n";
        let e = Config::parse(&dir.join("mageflow.toml"), text, |_| None).unwrap_err();
        assert!(e.0.contains("can be read by others (mode 0644)"), "{}", e.0);
        assert!(e.0.contains("chmod 600"), "{}", e.0);
    }

    #[test]
    fn secrets_written_inline_and_unknown_keys_are_refused_with_the_line() {
        let e = Config::parse(
            Path::new("m.toml"),
            "listen = \"x\"\n[magento]\nadmin-password = \"hunter2\"\n",
            |_| None,
        )
        .unwrap_err();
        assert!(
            e.0.contains("magento.admin-password") && e.0.contains("never written in the file"),
            "{}",
            e.0
        );
        let e = Config::parse(Path::new("m.toml"), "data_dir = \"x\"\n", |_| None).unwrap_err();
        assert!(e.0.contains("unknown field `data_dir`"), "{}", e.0);
        let e = Config::parse(
            Path::new("m.toml"),
            "[approvers]\nbob = { env = \"NOPE\" }\n",
            |_| None,
        )
        .unwrap_err();
        assert!(e.0.contains("NOPE is not set"), "{}", e.0);
        // Limits are checked as a workflow file's are, bounds included.
        for bad in [
            "memory-mib = 0",
            "memory-mib = 1000000",
            "wall-time = \"soon\"",
        ] {
            let e = Config::parse(Path::new("m.toml"), &format!("[limits]\n{bad}\n"), |_| None)
                .unwrap_err();
            assert!(e.0.starts_with("m.toml: limits."), "{}", e.0);
        }
    }
}
