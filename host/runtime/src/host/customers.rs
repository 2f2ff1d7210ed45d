//! `interface customers`: storefront customers through the Magento client, with the
//! workflow's grants checked on every call.

use std::sync::Arc;

use mageflow_magento::MagentoClient;
use wasmtime::component::{HasSelf, Linker};

use crate::generated::mageflow::workflow::customers;
use crate::generated::mageflow::workflow::types::{
    Customer, CustomerPage, MagentoError, NewCustomer, Patch, SearchCriteria,
};
use crate::grants::{Grant, Grants};
use crate::host::types::{self as convert, convert_error, denied};

/// Host state of `interface customers`.
#[derive(Debug)]
pub(crate) struct CustomersHost {
    pub(crate) client: Arc<MagentoClient>,
    pub(crate) grants: Grants,
}

type Answer<T> = wasmtime::Result<Result<T, MagentoError>>;

impl CustomersHost {
    fn allow(&self, grant: Grant, call: &str) -> Result<(), MagentoError> {
        self.grants.check(grant, call).map_err(denied)
    }
}

impl customers::Host for CustomersHost {
    #[tracing::instrument(name = "customers.search", skip_all)]
    async fn search(&mut self, criteria: SearchCriteria) -> Answer<CustomerPage> {
        Ok(async {
            self.allow(Grant::CustomersRead, "customers.search")?;
            self.client
                .search_customers(&convert::criteria(criteria))
                .await
                .map(|page| CustomerPage {
                    total_count: page.total_count,
                    items: page.items.into_iter().map(convert::customer).collect(),
                })
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "customers.get", skip(self))]
    async fn get(&mut self, id: u64) -> Answer<Customer> {
        Ok(async {
            self.allow(Grant::CustomersRead, "customers.get")?;
            self.client
                .customer(id)
                .await
                .map(convert::customer)
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "customers.find-by-email", skip_all)]
    async fn find_by_email(
        &mut self,
        email: String,
        website_id: Option<u32>,
    ) -> Answer<Option<Customer>> {
        Ok(async {
            self.allow(Grant::CustomersRead, "customers.find-by-email")?;
            self.client
                .find_customer_by_email(&email, website_id)
                .await
                .map(|c| c.map(convert::customer))
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "customers.create", skip_all)]
    async fn create(
        &mut self,
        customer: NewCustomer,
        password: Option<String>,
    ) -> Answer<Customer> {
        Ok(async {
            self.allow(Grant::CustomersWrite, "customers.create")?;
            let new = convert::new_customer(customer, password)?;
            self.client
                .create_customer(&new)
                .await
                .map(convert::customer)
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "customers.update", skip(self, patch))]
    async fn update(&mut self, id: u64, patch: Patch) -> Answer<Customer> {
        Ok(async {
            self.allow(Grant::CustomersWrite, "customers.update")?;
            let patch = convert::patch(patch)?;
            self.client
                .update_customer(id, &patch)
                .await
                .map(convert::customer)
                .map_err(convert_error)
        }
        .await)
    }

    #[tracing::instrument(name = "customers.delete", skip(self))]
    async fn delete(&mut self, id: u64) -> Answer<()> {
        Ok(async {
            self.allow(Grant::CustomersDelete, "customers.delete")?;
            self.client.delete_customer(id).await.map_err(convert_error)
        }
        .await)
    }
}

/// Adds `interface customers` to a linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut CustomersHost,
) -> wasmtime::Result<()> {
    customers::add_to_linker::<T, HasSelf<CustomersHost>>(l, get)
}
