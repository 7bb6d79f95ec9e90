//! The schema rules: every key known and of the right type (`unknown-key`, `wrong-type`), and no
//! key written twice under spellings influxctl reads as one (`duplicate-key`).
//!
//! It judges keys and types only; the value of a key is judged by the profile rules, and a value
//! that looks sealed is handed to the sealed-value rules.

use std::ops::Range;

use toml_edit::{Item, TableLike, Value};

use super::{Walk, key_span, values};
use crate::diagnostic::Rule;
use crate::schema::{Field, Kind, PROFILE_FIELDS, SEALCTL_FIELDS, field_named, keys_for};
use crate::sealed::looks_sealed;
use crate::source::is_secret_key;

/// How a `wrong-type` message names what was found.
pub(super) fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(value) => match value {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::Array(_) => "an array",
            Value::InlineTable(_) => "an inline table",
        },
    }
}

impl Walk<'_> {
    /// Checks that every key of `table` is known and of the right type, recursing into sub-tables.
    pub(super) fn types(&mut self, table: &dyn TableLike, fields: &[Field]) {
        // sealctl's own table is read by sealctl, which matches its keys exactly.
        let influxctl_reads = !std::ptr::eq(fields, SEALCTL_FIELDS);
        if influxctl_reads {
            let names: Vec<&str> = fields.iter().map(|field| field.name).collect();
            self.duplicates(table, &names);
        }
        for (name, item) in table.iter() {
            let span = || key_span(table, name);
            if is_secret_key(name)
                && let Some(value) = item.span()
            {
                self.secret(value);
            }
            let field = if influxctl_reads {
                field_named(fields, name)
            } else {
                fields.iter().find(|field| field.name == name)
            };
            let Some(field) = field else {
                self.mark_inside(item);
                self.unknown_key(name, span(), fields);
                continue;
            };
            if !matches!(field.kind, Kind::Table(_)) || !item.is_table_like() {
                // Sub-tables are walked (and marked) below; anything else may hide a secret inside.
                self.mark_inside(item);
            }
            if let Some(value) = item.as_str()
                && looks_sealed(value)
            {
                self.sealed(name, value, span);
            }
            match field.kind {
                Kind::String if item.is_str() => {}
                Kind::Bool if item.is_bool() => {}
                Kind::StringArray
                    if item
                        .as_array()
                        .is_some_and(|array| array.iter().all(Value::is_str)) => {}
                Kind::StringMap if item.is_table_like() => {
                    let map = item.as_table_like().expect("checked");
                    for (entry, value) in map.iter() {
                        if !value.is_str() {
                            self.report_at_key(
                                Rule::WrongType,
                                &format!("{name}.{entry}"),
                                key_span(map, entry),
                                format!(
                                    "`{}` must be a string, found {}",
                                    self.scope.key(&format!("{name}.{entry}")),
                                    type_name(value)
                                ),
                                None,
                            );
                        }
                    }
                }
                Kind::Table(fields) if item.is_table_like() => {
                    let inner = format!("{}.", self.scope.key(name));
                    let outer = std::mem::replace(&mut self.scope.prefix, inner);
                    self.types(item.as_table_like().expect("checked"), fields);
                    self.scope.prefix = outer;
                }
                kind => self.wrong_type(name, span(), item, kind),
            }
        }
    }

    fn wrong_type(&mut self, name: &str, span: Range<usize>, item: &Item, kind: Kind) {
        let key = self.scope.key(name);
        let help = match (kind, item) {
            (Kind::String, Item::Value(Value::Integer(number))) if !is_secret_key(name) => {
                Some(format!("quote it: {name} = \"{}\"", number.value()))
            }
            (Kind::Bool, Item::Value(Value::String(text)))
                if matches!(text.value().as_str(), "true" | "false") =>
            {
                Some(format!("remove the quotes: {name} = {}", text.value()))
            }
            _ => None,
        };
        self.report_at_key(
            Rule::WrongType,
            name,
            span,
            format!(
                "`{key}` must be {}, found {}",
                kind.describe(),
                type_name(item)
            ),
            help,
        );
    }

    fn unknown_key(&mut self, name: &str, span: Range<usize>, fields: &[Field]) {
        let key = self.scope.key(name);
        let help = if name == "client_secret" && self.scope.prefix == "auth.oauth2." {
            Some("influxctl 2.9.8 removed `client_secret`; remove it from the file".to_owned())
        } else if let Some(near) = values::nearest(name, fields.iter().map(|field| field.name)) {
            Some(format!("did you mean `{}`?", self.scope.key(near)))
        } else {
            nested_home(name).map(|home| format!("did you mean `{home}`?"))
        };
        self.report_at_key(
            Rule::UnknownKey,
            name,
            span,
            format!("unknown key `{key}`"),
            help,
        );
    }

    /// The duplicate-key rule: two keys of `table` that influxctl reads as the same one of
    /// `fields` (`mgmt_token` and `MGMT_TOKEN`); it keeps one, and which is not to be relied on.
    pub(super) fn duplicates(&mut self, table: &dyn TableLike, fields: &[&str]) {
        for field in fields {
            let mut written = keys_for(table, field).map(|(key, _)| key);
            let Some(first) = written.next() else {
                continue;
            };
            for again in written {
                let (line, _) = self
                    .source
                    .line_column(key_span(table, first).start + self.offset);
                self.report_at_key(
                    Rule::DuplicateKey,
                    again,
                    key_span(table, again),
                    format!(
                        "`{}` and `{}` (line {line}) are the same key to influxctl, which reads keys without regard to case and keeps only one of them",
                        self.scope.key(again),
                        self.scope.key(first),
                    ),
                    Some(format!("keep one `{field}` and remove the other")),
                );
            }
        }
    }
}

/// Where a key that belongs to a nested table lives, for one written at the wrong level.
fn nested_home(name: &str) -> Option<String> {
    PROFILE_FIELDS.iter().find_map(|outer| match outer.kind {
        Kind::Table(inner) => inner.iter().find_map(|field| match field.kind {
            _ if field.name == name => Some(format!("{}.{name}", outer.name)),
            Kind::Table(deeper) if deeper.iter().any(|deep| deep.name == name) => {
                Some(format!("{}.{}.{name}", outer.name, field.name))
            }
            _ => None,
        }),
        _ => None,
    })
}
