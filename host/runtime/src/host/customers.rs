//! `interface customers`: storefront customers, with the workflow's grants checked on every
//! call before it reaches the gateway.

use mageflow_model::CallKind;
use wasmtime::component::{HasSelf, Linker};

use crate::gateway::{Call, Reply};
use crate::generated::mageflow::workflow::customers;
use crate::generated::mageflow::workflow::types::{
    Customer, CustomerPage, NewCustomer, Patch, SearchCriteria,
};
use crate::host::magento::{Answer, MagentoHost};
use crate::host::types::{self as convert, answer};

fn one(reply: Reply) -> Result<Customer, Reply> {
    match reply {
        Reply::Customer(c) => Ok(convert::customer(*c)),
        other => Err(other),
    }
}

impl customers::Host for MagentoHost {
    #[tracing::instrument(name = "customers.search", skip_all)]
    async fn search(&mut self, criteria: SearchCriteria) -> Answer<CustomerPage> {
        let kind = CallKind::SearchCustomers;
        let got = self
            .ask(kind, || {
                Ok(Call::SearchCustomers(convert::criteria(criteria)))
            })
            .await;
        answer(kind, got, |r| match r {
            Reply::CustomerPage(page) => Ok(CustomerPage {
                total_count: page.total_count,
                items: page.items.into_iter().map(convert::customer).collect(),
            }),
            other => Err(other),
        })
    }

    #[tracing::instrument(name = "customers.get", skip(self))]
    async fn get(&mut self, id: u64) -> Answer<Customer> {
        let kind = CallKind::GetCustomer;
        let got = self.ask(kind, || Ok(Call::GetCustomer(id))).await;
        answer(kind, got, one)
    }

    #[tracing::instrument(name = "customers.find-by-email", skip_all)]
    async fn find_by_email(
        &mut self,
        email: String,
        website_id: Option<u32>,
    ) -> Answer<Option<Customer>> {
        let kind = CallKind::FindCustomerByEmail;
        let got = self
            .ask(kind, || Ok(Call::FindCustomerByEmail(email, website_id)))
            .await;
        answer(kind, got, |r| match r {
            Reply::MaybeCustomer(c) => Ok(c.map(|c| convert::customer(*c))),
            other => Err(other),
        })
    }

    #[tracing::instrument(name = "customers.create", skip_all)]
    async fn create(
        &mut self,
        customer: NewCustomer,
        password: Option<String>,
    ) -> Answer<Customer> {
        let kind = CallKind::CreateCustomer;
        let got = self
            .ask(kind, || {
                Ok(Call::CreateCustomer(Box::new(convert::new_customer(
                    customer, password,
                )?)))
            })
            .await;
        answer(kind, got, one)
    }

    #[tracing::instrument(name = "customers.update", skip(self, patch))]
    async fn update(&mut self, id: u64, patch: Patch) -> Answer<Customer> {
        let kind = CallKind::UpdateCustomer;
        let got = self
            .ask(kind, || {
                Ok(Call::UpdateCustomer(id, convert::patch(patch)?))
            })
            .await;
        answer(kind, got, one)
    }

    #[tracing::instrument(name = "customers.delete", skip(self))]
    async fn delete(&mut self, id: u64) -> Answer<()> {
        let kind = CallKind::DeleteCustomer;
        let got = self.ask(kind, || Ok(Call::DeleteCustomer(id))).await;
        answer(kind, got, |r| match r {
            Reply::Done => Ok(()),
            other => Err(other),
        })
    }
}

/// Adds `interface customers` to a linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut MagentoHost,
) -> wasmtime::Result<()> {
    customers::add_to_linker::<T, HasSelf<MagentoHost>>(l, get)
}
