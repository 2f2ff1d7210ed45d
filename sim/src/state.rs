//! The simulated installation's data, behind one lock: customers with their indexes, admin
//! users, tokens, bulk operations, and the test-visible logs (writes, outbox, webhooks).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde::Serialize;

use crate::auth::{Principal, Token};
use crate::bulk::Bulk;
use crate::config::{Consumer, SimConfig};
use crate::faults::Fault;
use crate::model::{
    AdminUser, Customer, FULL_INTEGRATION_ACL, Group, Integration, Role, default_groups,
    default_roles,
};

/// One applied write, in order: what `GET /__sim/writes` lists so tests can prove exactly-once.
#[derive(Debug, Clone, Serialize)]
pub struct WriteRecord {
    /// 1-based position in the log.
    pub seq: u64,
    /// Simulated time of the write.
    pub at: String,
    /// `create`, `update` or `delete`.
    pub op: &'static str,
    /// `customer`, `address` or `admin_user`.
    pub entity: &'static str,
    /// The entity's id.
    pub id: u64,
    /// `rest` for a synchronous call, `bulk` for the consumer.
    pub via: &'static str,
}

/// A mail Magento would have sent, kept in `GET /__sim/outbox`.
#[derive(Debug, Clone, Serialize)]
pub struct Email {
    /// Recipient.
    pub to: String,
    /// Template id, e.g. `registered_no_password`.
    pub template: &'static str,
    /// The customer it concerns.
    pub customer_id: u64,
    /// Simulated send time.
    pub at: String,
}

/// Failed logins of one account, for the 6-failures, 1800-second lockout.
#[derive(Debug, Clone, Default)]
pub struct Failures {
    /// Consecutive failures.
    pub count: u32,
    /// Locked until this simulated time.
    pub locked_until: i64,
}

/// Everything the simulator knows, guarded by one `RwLock` in [`crate::Sim`].
#[derive(Debug)]
pub struct State {
    /// Customers indexed by id (`None` where deleted or never used; index 0 unused).
    pub customers: Vec<Option<Customer>>,
    /// `(website_id, lowercased email)` -> customer id: per-website uniqueness.
    pub email_index: HashMap<(u32, String), u64>,
    /// Next address id.
    pub next_address_id: u64,
    /// Customer groups by id.
    pub groups: BTreeMap<u32, Group>,
    /// Admin users by id.
    pub admin_users: BTreeMap<u64, AdminUser>,
    /// Next admin user id.
    pub next_admin_id: u64,
    /// Admin roles by id.
    pub roles: BTreeMap<u32, Role>,
    /// Integrations.
    pub integrations: Vec<Integration>,
    /// Issued bearer tokens.
    pub tokens: HashMap<String, Token>,
    /// Failed logins per `(user type, lowercased username)`.
    pub failures: HashMap<(u8, String), Failures>,
    /// Used `(consumer id, nonce)` pairs.
    pub nonces: HashSet<(u64, String)>,
    /// Applied writes.
    pub writes: Vec<WriteRecord>,
    /// Sent mail.
    pub outbox: Vec<Email>,
    /// Bulk submissions by uuid.
    pub bulks: HashMap<String, Bulk>,
    /// Next operation id (global, as Magento's `magento_operation` table).
    pub next_operation_id: u64,
    /// Operations waiting for the consumer: `(bulk uuid, index)`.
    pub open_ops: VecDeque<(String, usize)>,
    /// Whether the consumer runs.
    pub consumer_running: bool,
    /// Injected faults.
    pub faults: Vec<Fault>,
    /// Where webhooks go, if anywhere.
    pub webhook_url: Option<String>,
    /// Secret that signs JWTs.
    pub jwt_secret: [u8; 32],
    /// Webhook delivery attempts.
    pub deliveries: Vec<crate::webhooks::Delivery>,
}

impl State {
    /// A fresh installation from `config`: admin, roles, groups, integrations, seeded customers.
    pub fn new(config: &SimConfig, now: i64) -> State {
        let mut state = State {
            customers: vec![None],
            email_index: HashMap::new(),
            next_address_id: 1,
            groups: default_groups().into_iter().map(|g| (g.id, g)).collect(),
            admin_users: BTreeMap::new(),
            next_admin_id: 1,
            roles: default_roles().into_iter().map(|r| (r.id, r)).collect(),
            integrations: Vec::new(),
            tokens: HashMap::new(),
            failures: HashMap::new(),
            nonces: HashSet::new(),
            writes: Vec::new(),
            outbox: Vec::new(),
            bulks: HashMap::new(),
            next_operation_id: 1,
            open_ops: VecDeque::new(),
            consumer_running: config.consumer == Consumer::Running,
            faults: Vec::new(),
            webhook_url: config.webhook_url.clone(),
            jwt_secret: rand::random(),
            deliveries: Vec::new(),
        };
        let created = crate::time::format_ts(now);
        let (user, password) = &config.admin;
        state.admin_users.insert(
            1,
            AdminUser {
                id: 1,
                username: user.clone(),
                firstname: "Admin".into(),
                lastname: "User".into(),
                email: format!("{user}@example.com"),
                is_active: true,
                role_id: 1,
                created: created.clone(),
                modified: created,
                password: password.clone(),
            },
        );
        state.next_admin_id = 2;
        for (i, name) in config.integrations.iter().enumerate() {
            state.integrations.push(Integration {
                id: i as u64 + 1,
                name: name.clone(),
                consumer_key: crate::auth::random_token(),
                consumer_secret: crate::auth::random_token(),
                access_token: crate::auth::random_token(),
                access_token_secret: crate::auth::random_token(),
                resources: FULL_INTEGRATION_ACL.iter().map(|s| s.to_string()).collect(),
            });
        }
        crate::seed::seed_customers(&mut state, config.seed_customers, now);
        crate::seed::add_login_customers(&mut state, &config.customers, now);
        state
    }

    /// The customer with this id.
    pub fn customer(&self, id: u64) -> Option<&Customer> {
        self.customers.get(id as usize).and_then(Option::as_ref)
    }

    /// Every live customer, in id order.
    pub fn all_customers(&self) -> impl Iterator<Item = &Customer> {
        self.customers.iter().filter_map(Option::as_ref)
    }

    /// Records an applied write.
    pub fn log_write(
        &mut self,
        now: i64,
        op: &'static str,
        entity: &'static str,
        id: u64,
        via: &'static str,
    ) {
        let seq = self.writes.len() as u64 + 1;
        self.writes.push(WriteRecord {
            seq,
            at: crate::time::format_ts(now),
            op,
            entity,
            id,
            via,
        });
    }

    /// Stores a customer (new or changed) and keeps the email index in step.
    pub fn put_customer(&mut self, c: Customer) {
        let id = c.id as usize;
        if let Some(Some(old)) = self.customers.get(id) {
            self.email_index
                .remove(&(old.website_id, old.email.to_ascii_lowercase()));
        }
        self.email_index
            .insert((c.website_id, c.email.to_ascii_lowercase()), c.id);
        if self.customers.len() <= id {
            self.customers.resize(id + 1, None);
        }
        self.customers[id] = Some(c);
    }

    /// The id the next customer gets.
    pub fn next_customer_id(&self) -> u64 {
        self.customers.len() as u64
    }

    /// Revokes every token of one principal.
    pub fn revoke_tokens(&mut self, who: Principal) -> usize {
        let mut n = 0;
        for t in self.tokens.values_mut() {
            if t.principal == who && !t.revoked {
                t.revoked = true;
                n += 1;
            }
        }
        n
    }
}
