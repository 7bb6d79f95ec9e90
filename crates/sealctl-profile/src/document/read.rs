//! Reading a profile file as influxctl reads it: the one profile of a name, the one key of a
//! field in any case, and the values, endpoints, typed profiles and recipients found there.
//!
//! Two profiles of one name, or two spellings of one key, are errors here, so that no edit or
//! read guesses which one influxctl would take.

use std::ops::Range;

use toml_edit::{Document, Item, TableLike, Value};

use super::{ProfileDocument, ProfileValue};
use crate::endpoint::{ENDPOINT_KEYS, Endpoint};
use crate::error::ProfileError;
use crate::lookup::{LookupError, ProfileTable, find_profile, profile_tables};
use crate::place::Place;
use crate::schema::{
    Field, Kind, PROFILE_FIELDS, Profile, ProfilesFile, SEALCTL_TABLE, key_for, keys_for,
    only_key_for,
};

/// One profile as the span-keeping parser sees it.
pub(super) struct ProfileRef<'d> {
    pub(super) table: &'d dyn TableLike,
    /// The `[[profile]]` header's span, for a profile written as a table.
    pub(super) header: Option<Range<usize>>,
    /// The `{ … }` span for a profile written as an inline table.
    pub(super) inline: Option<Range<usize>>,
}

impl ProfileDocument {
    /// The names of the profiles, in file order.
    pub fn profile_names(&self) -> Vec<String> {
        let document = self.document();
        profiles(&document)
            .iter()
            .filter_map(|profile| {
                key_for(profile.table, "name")?
                    .1
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    }

    /// The typed profiles. Fails when a profile does not match the schema (`check` says where).
    pub fn profiles(&self) -> Result<Vec<Profile>, ProfileError> {
        let mut document: toml_edit::DocumentMut =
            self.text.parse().map_err(|source| ProfileError::Syntax {
                path: self.path.clone(),
                source,
            })?;
        // Keys as influxctl reads them: `MGMT_TOKEN` is `mgmt_token`, `[[Profile]]` is
        // `[[profile]]`; the typed view matches names exactly.
        let root: &mut dyn TableLike = document.as_table_mut();
        self.canonical_keys(root, &[PROFILE_TABLE], None)?;
        if let Some(profiles) = document.get_mut("profile") {
            let tables: Vec<&mut dyn TableLike> = match profiles {
                Item::ArrayOfTables(array) => array
                    .iter_mut()
                    .map(|table| table as &mut dyn TableLike)
                    .collect(),
                Item::Value(Value::Array(array)) => array
                    .iter_mut()
                    .filter_map(Value::as_inline_table_mut)
                    .map(|table| table as &mut dyn TableLike)
                    .collect(),
                _ => Vec::new(),
            };
            for table in tables {
                let name = key_for(table, "name")
                    .and_then(|(_, item)| item.as_str())
                    .map(str::to_owned);
                self.canonical_keys(table, PROFILE_FIELDS, name.as_deref())?;
            }
        }
        toml_edit::de::from_document::<ProfilesFile>(document)
            .map(|file| file.profile)
            .map_err(|error| ProfileError::Schema {
                path: self.path.clone(),
                message: error.message().to_owned(),
            })
    }

    /// The typed profile with this name.
    pub fn profile(&self, name: &str) -> Result<Profile, ProfileError> {
        self.profiles()?
            .into_iter()
            .find(|profile| profile.name == name)
            .ok_or_else(|| self.unknown(name))
    }

    /// The string at a dotted `key` (`mgmt_token`, `tls.cert`) of a profile, if it is a string.
    pub fn get(&self, profile: &str, key: &str) -> Result<Option<String>, ProfileError> {
        self.lookup(&self.document(), profile, key)
    }

    /// The strings at these keys of these profiles, where present, read in one pass.
    pub fn values(
        &self,
        profiles: &[String],
        keys: &[&str],
    ) -> Result<Vec<ProfileValue>, ProfileError> {
        let document = self.document();
        let mut values = Vec::new();
        for profile in profiles {
            for key in keys {
                if let Some(value) = self.lookup(&document, profile, key)? {
                    values.push(ProfileValue::new(Place::new(profile.as_str(), *key), value));
                }
            }
        }
        Ok(values)
    }

    /// The strings at these keys of these profiles, where present, each with where its profile
    /// sends it: the endpoint a sealed token is bound to.
    pub fn values_with_endpoints(
        &self,
        profiles: &[String],
        keys: &[&str],
    ) -> Result<Vec<(ProfileValue, Endpoint)>, ProfileError> {
        let endpoints = self.endpoints(profiles)?;
        Ok(self
            .values(profiles, keys)?
            .into_iter()
            .map(|found| {
                let at = profiles
                    .iter()
                    .position(|name| *name == found.place.profile)
                    .expect("values are of these profiles");
                let endpoint = endpoints[at].clone();
                (found, endpoint)
            })
            .collect())
    }

    /// The endpoints of these profiles (where their tokens go), in the same order, read in one
    /// pass.
    pub fn endpoints(&self, profiles: &[String]) -> Result<Vec<Endpoint>, ProfileError> {
        let document = self.document();
        profiles
            .iter()
            .map(|profile| {
                let mut fields = Vec::with_capacity(ENDPOINT_KEYS.len());
                for key in ENDPOINT_KEYS {
                    fields.push((*key, self.lookup(&document, profile, key)?));
                }
                Ok(Endpoint::from_fields(|key| {
                    fields
                        .iter()
                        .find(|(name, _)| *name == key)
                        .and_then(|(_, value)| value.as_deref())
                }))
            })
            .collect()
    }

    /// The endpoint of one profile.
    pub fn endpoint(&self, profile: &str) -> Result<Endpoint, ProfileError> {
        let mut endpoints = self.endpoints(&[profile.to_owned()])?;
        Ok(endpoints.remove(0))
    }

    pub(super) fn lookup(
        &self,
        document: &Document<&str>,
        profile: &str,
        key: &str,
    ) -> Result<Option<String>, ProfileError> {
        let found = self.find(document, profile)?;
        let mut table = found.table;
        let parts: Vec<&str> = key.split('.').collect();
        let (leaf, parents) = parts.split_last().expect("split yields one part");
        for part in parents {
            match self
                .one_key(table, part, profile)?
                .map(|(_, item)| item.as_table_like())
            {
                Some(Some(inner)) => table = inner,
                _ => return Ok(None),
            }
        }
        Ok(self
            .one_key(table, leaf, profile)?
            .and_then(|(_, item)| item.as_str())
            .map(str::to_owned))
    }

    /// How long before its expiry a token is warned about: the file's `[sealctl]
    /// expiry_warning`, else (also when it does not read: `check` reports that) the default.
    pub fn expiry_warning(&self) -> std::time::Duration {
        self.document()
            .get(SEALCTL_TABLE)
            .and_then(|table| table.get(crate::validate::EXPIRY_WARNING_KEY))
            .and_then(Item::as_str)
            .and_then(|text| crate::validate::parse_expiry_warning(text).ok())
            .unwrap_or(crate::validate::EXPIRY_WARNING)
    }

    /// The boolean at a dotted `key` (`tls.disable`) of a profile, if it is a boolean.
    pub fn get_bool(&self, profile: &str, key: &str) -> Result<Option<bool>, ProfileError> {
        let document = self.document();
        let found = self.find(&document, profile)?;
        let mut table = found.table;
        let parts: Vec<&str> = key.split('.').collect();
        let (leaf, parents) = parts.split_last().expect("split yields one part");
        for part in parents {
            match self
                .one_key(table, part, profile)?
                .map(|(_, item)| item.as_table_like())
            {
                Some(Some(inner)) => table = inner,
                _ => return Ok(None),
            }
        }
        Ok(self
            .one_key(table, leaf, profile)?
            .and_then(|(_, item)| item.as_bool()))
    }

    /// The recipients listed in the file's `[sealctl]` table, as written.
    pub fn recipients(&self) -> Vec<String> {
        self.document()
            .get(SEALCTL_TABLE)
            .and_then(|table| table.get("recipients"))
            .and_then(Item::as_array)
            .map(|array| {
                array
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `[sealctl.<name>]` tables (backend settings), each key with its string value as
    /// written; values of other types are left out (`check` reports them).
    pub fn backend_settings(
        &self,
    ) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
        let document = self.document();
        let Some(sealctl) = document.get(SEALCTL_TABLE).and_then(Item::as_table_like) else {
            return Default::default();
        };
        sealctl
            .iter()
            .filter_map(|(name, item)| {
                let table = item.as_table_like()?;
                let values = table
                    .iter()
                    .filter_map(|(key, item)| Some((key.to_owned(), item.as_str()?.to_owned())))
                    .collect();
                Some((name.to_owned(), values))
            })
            .collect()
    }

    fn unknown(&self, name: &str) -> ProfileError {
        ProfileError::UnknownProfile {
            path: self.path.clone(),
            name: name.to_owned(),
            known: self.profile_names(),
        }
    }

    /// The index of the one profile named `name`. Two of that name are refused: which one an edit
    /// or influxctl would take is not something to guess.
    pub(super) fn index_of(
        &self,
        document: &Document<&str>,
        name: &str,
    ) -> Result<usize, ProfileError> {
        match find_profile(document.as_table(), name) {
            Ok((index, _)) => Ok(index),
            Err(LookupError::Unknown) => Err(self.unknown(name)),
            Err(LookupError::Duplicate { count }) => Err(ProfileError::DuplicateProfile {
                path: self.path.clone(),
                name: name.to_owned(),
                count,
            }),
            Err(LookupError::DuplicateKey {
                profile,
                first,
                second,
            }) => Err(self.duplicate_key(&profile, &first, &second)),
        }
    }

    /// Whether one profile or more has this name.
    pub(super) fn has_profile(&self, name: &str) -> bool {
        self.profile_names().iter().any(|known| known == name)
    }

    /// The one key of `table` that influxctl reads as `field` (as written, with its item), or
    /// an error naming both when there are two spellings of it. `profile` names the place in
    /// the error; empty for the top level.
    pub(super) fn one_key<'t>(
        &self,
        table: &'t dyn TableLike,
        field: &str,
        profile: &str,
    ) -> Result<Option<(&'t str, &'t Item)>, ProfileError> {
        only_key_for(table, field)
            .map_err(|[first, second]| self.duplicate_key(profile, first, second))
    }

    fn duplicate_key(&self, profile: &str, first: &str, second: &str) -> ProfileError {
        ProfileError::DuplicateKey {
            path: self.path.clone(),
            place: if profile.is_empty() {
                String::new()
            } else {
                format!("profile `{profile}` ")
            },
            first: first.to_owned(),
            second: second.to_owned(),
        }
    }

    /// Renames the keys of `table` that are case variants of `fields` to the names influxctl
    /// reads them by, in sub-tables too; two spellings of one key are an error.
    fn canonical_keys(
        &self,
        table: &mut dyn TableLike,
        fields: &[Field],
        profile: Option<&str>,
    ) -> Result<(), ProfileError> {
        for field in fields {
            let written: Vec<String> = keys_for(table, field.name)
                .map(|(key, _)| key.to_owned())
                .collect();
            if let [first, second, ..] = written.as_slice() {
                return Err(self.duplicate_key(profile.unwrap_or(""), first, second));
            }
            if let Some(key) = written.first()
                && key != field.name
                && let Some(item) = table.remove(key)
            {
                table.insert(field.name, item);
            }
            if let Kind::Table(inner) = field.kind
                && let Some(inner_table) =
                    table.get_mut(field.name).and_then(Item::as_table_like_mut)
            {
                self.canonical_keys(inner_table, inner, profile)?;
            }
        }
        Ok(())
    }

    pub(super) fn find<'d>(
        &self,
        document: &'d Document<&str>,
        name: &str,
    ) -> Result<ProfileRef<'d>, ProfileError> {
        let index = self.index_of(document, name)?;
        Ok(profiles(document).swap_remove(index))
    }
}

/// The top-level key of the profiles, for [`ProfileDocument::canonical_keys`].
const PROFILE_TABLE: Field = Field {
    name: "profile",
    kind: Kind::StringMap,
};

pub(super) fn profiles<'d>(document: &'d Document<&str>) -> Vec<ProfileRef<'d>> {
    profile_tables(document.as_table())
        .into_iter()
        .map(|profile| match profile {
            ProfileTable::Table(table) => ProfileRef {
                table,
                header: table.span(),
                inline: None,
            },
            ProfileTable::Inline(table) => ProfileRef {
                table,
                header: None,
                inline: table.span(),
            },
        })
        .collect()
}
