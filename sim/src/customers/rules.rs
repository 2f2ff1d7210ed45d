//! Magento's customer validation: password strength (`AccountManagement::checkPasswordStrength`)
//! and the EAV checks of a save (required names and website, valid names and email).

use serde_json::json;

use crate::error::{MResult, MagentoError};
use crate::model::Customer;

/// `customer/password/minimum_password_length` default.
pub const MIN_PASSWORD_LENGTH: usize = 8;
/// `customer/password/required_character_classes_number` default.
pub const REQUIRED_CLASSES: usize = 3;
const MAX_PASSWORD_LENGTH: usize = 256;

/// Magento's `checkPasswordStrength` plus the password-equals-email rule.
pub fn check_password(password: &str, email: &str) -> MResult<()> {
    let len = password.chars().count();
    if len > MAX_PASSWORD_LENGTH {
        return Err(MagentoError::bad_request(
            "Please enter a password with at most %1 characters.",
        )
        .with(json!([MAX_PASSWORD_LENGTH])));
    }
    if len < MIN_PASSWORD_LENGTH {
        return Err(MagentoError::bad_request(
            "The password needs at least %1 characters. Create a new password and try again.",
        )
        .with(json!([MIN_PASSWORD_LENGTH])));
    }
    if password.trim() != password {
        return Err(MagentoError::bad_request(
            "The password can't begin or end with a space. Verify the password and try again.",
        ));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|x| **x).count() < REQUIRED_CLASSES {
        return Err(MagentoError::bad_request(
            "Minimum of different classes of characters in password is %1. Classes of characters: Lower Case, Upper Case, Digits, Special Characters.",
        )
        .with(json!([REQUIRED_CLASSES])));
    }
    if password.eq_ignore_ascii_case(email) {
        return Err(MagentoError::bad_request(
            "The password can't be the same as the email address. Create a new password and try again.",
        ));
    }
    Ok(())
}

pub(super) fn valid_name(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || ",-_.'’`&".contains(c))
}

fn valid_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// The EAV checks of a customer save: required names and website, valid names and email.
pub(super) fn validate(c: &Customer, need_website: bool) -> MResult<()> {
    let mut errors = Vec::new();
    let required =
        |label: &str| MagentoError::bad_request("\"%1\" is a required value.").with(json!([label]));
    if c.firstname.trim().is_empty() {
        errors.push(required("First Name"));
    } else if !valid_name(&c.firstname) {
        errors.push(MagentoError::bad_request("First Name is not valid!"));
    }
    if c.lastname.trim().is_empty() {
        errors.push(required("Last Name"));
    } else if !valid_name(&c.lastname) {
        errors.push(MagentoError::bad_request("Last Name is not valid!"));
    }
    if c.middlename.as_deref().is_some_and(|m| !valid_name(m)) {
        errors.push(MagentoError::bad_request("Middle Name is not valid!"));
    }
    if need_website && c.website_id == 0 {
        errors.push(required("Associate to Website"));
    }
    if !c.email.is_empty() && !valid_email(&c.email) {
        errors.push(
            MagentoError::bad_request("\"%1\" is not a valid email address.")
                .with(json!(["Email"])),
        );
    }
    match MagentoError::aggregate(errors) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules_in_magentos_order() {
        let msg = |p: &str| check_password(p, "a@b.c").unwrap_err().message;
        assert!(msg("Ab1!").starts_with("The password needs at least %1"));
        assert!(msg(" Abcdef1! ").starts_with("The password can't begin or end with a space"));
        assert!(msg("abcdefgh").starts_with("Minimum of different classes"));
        assert!(msg(&"Ab1!".repeat(70)).starts_with("Please enter a password with at most"));
        assert!(check_password("Str0ng!Pass", "a@b.c").is_ok());
        assert!(
            check_password("Abc@Def.gh1", "abc@def.gh1")
                .unwrap_err()
                .message
                .contains("same as the email")
        );
    }

    #[test]
    fn names_with_markup_characters_are_invalid() {
        assert!(valid_name("Jean-Luc O'Neil"));
        assert!(!valid_name("Robert{}"));
    }
}
