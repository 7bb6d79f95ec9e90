//! Secret marking and the plaintext-secret rule: which spans of the file hold a secret, so that
//! no line shown to a user carries one, and which profile tokens are not sealed.
//!
//! It only finds and marks secrets; it must never put a secret's value into a message or a help
//! (messages name the key, never the value).

use toml_edit::{Item, TableLike, Value};

use super::{Walk, key_span};
use crate::diagnostic::Rule;
use crate::schema::{SECRET_KEYS, keys_for};
use crate::sealed::looks_sealed;
use crate::source::is_secret_key;

impl Walk<'_> {
    /// Marks `item` as secret if its key's name looks secret, and looks inside it for more, so
    /// that no line shown to a user ever carries a secret. The schema walk ([`Walk::types`])
    /// marks profiles as it goes; this covers everything else.
    pub(super) fn mark_item(&mut self, name: &str, item: &Item) {
        if is_secret_key(name)
            && let Some(span) = item.span()
        {
            self.secret(span);
        }
        self.mark_inside(item);
    }

    pub(super) fn mark_inside(&mut self, item: &Item) {
        match item {
            Item::Value(value) => self.mark_inside_value(value),
            Item::Table(table) => self.mark_table(table),
            Item::ArrayOfTables(array) => array.iter().for_each(|table| self.mark_table(table)),
            Item::None => {}
        }
    }

    fn mark_inside_value(&mut self, value: &Value) {
        match value {
            Value::InlineTable(table) => self.mark_table(table),
            Value::Array(array) => array.iter().for_each(|value| self.mark_inside_value(value)),
            _ => {}
        }
    }

    fn mark_table(&mut self, table: &dyn TableLike) {
        for (name, item) in table.iter() {
            self.mark_item(name, item);
        }
    }

    /// The plaintext-secret rule: a profile token that is not sealed, under any spelling of
    /// its key.
    pub(super) fn plaintext_secrets(&mut self, table: &dyn TableLike) {
        for key in SECRET_KEYS {
            // Every spelling influxctl may read: with two, which one it takes is not known.
            for (written, item) in keys_for(table, key) {
                let Some(value) = item.as_str() else { continue };
                if value.is_empty() || looks_sealed(value) {
                    continue;
                }
                let what = if *key == "mgmt_token" {
                    "a management token, which has administrative rights over the cluster,"
                } else {
                    "a database token"
                };
                let read_as = if written == *key {
                    String::new()
                } else {
                    format!(" (influxctl reads it as `{key}`)")
                };
                self.report_at_key(
                    Rule::PlaintextSecret,
                    written,
                    key_span(table, written),
                    format!("`{written}` holds {what} in plaintext{read_as}"),
                    Some("seal it in place".to_owned()),
                );
                self.with_fix(&["seal"], true);
            }
        }
    }
}
