use serde::{Deserialize, Serialize};

use super::SchemaError;

/// An owner of a package: an SSH public key split into its type and base64 body, with an
/// optional free-form id (usually the key's comment). JSON keys: `id`?, `keytype`, `public`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawOwner", into = "RawOwner")]
pub struct Owner {
    id: Option<String>,
    keytype: String,
    public: String,
}

impl Owner {
    pub fn new(id: Option<&str>, keytype: &str, public: &str) -> Result<Self, SchemaError> {
        let bad = |what: &str| SchemaError::Owner {
            reason: format!("{what}: expected an SSH public key split into `keytype` and `public`"),
        };
        if keytype.is_empty() || keytype.chars().any(char::is_whitespace) {
            return Err(bad(&format!(
                "`keytype` `{}` is empty or has spaces",
                crate::text::value(keytype)
            )));
        }
        if public.is_empty() || public.chars().any(char::is_whitespace) {
            return Err(bad("`public` is empty or has spaces"));
        }
        Ok(Owner {
            id: id.map(str::to_owned),
            keytype: keytype.to_owned(),
            public: public.to_owned(),
        })
    }

    /// Parse an OpenSSH public key line: `<keytype> <base64> [comment]`.
    pub fn from_openssh(line: &str) -> Result<Self, SchemaError> {
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next()) {
            (Some(kt), Some(pk)) => {
                let comment: Vec<&str> = parts.collect();
                let id = (!comment.is_empty()).then(|| comment.join(" "));
                Owner::new(id.as_deref(), kt, pk)
            }
            _ => Err(SchemaError::Owner {
                reason: "expected an OpenSSH public key line `<keytype> <base64> [comment]`".into(),
            }),
        }
    }

    /// The OpenSSH public key line `<keytype> <base64> [id]` ([`Owner::from_openssh`] reads
    /// it back).
    pub fn to_openssh(&self) -> String {
        match &self.id {
            Some(id) => format!("{} {} {id}", self.keytype, self.public),
            None => format!("{} {}", self.keytype, self.public),
        }
    }

    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    pub fn keytype(&self) -> &str {
        &self.keytype
    }
    pub fn public(&self) -> &str {
        &self.public
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOwner {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    keytype: String,
    public: String,
}

impl TryFrom<RawOwner> for Owner {
    type Error = SchemaError;
    fn try_from(r: RawOwner) -> Result<Self, SchemaError> {
        Owner::new(r.id.as_deref(), &r.keytype, &r.public)
    }
}

impl From<Owner> for RawOwner {
    fn from(o: Owner) -> RawOwner {
        RawOwner {
            id: o.id,
            keytype: o.keytype,
            public: o.public,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_openssh() {
        let s = r#"{"id":"me@example.com","keytype":"ssh-ed25519","public":"AAAAC3Nza"}"#;
        let o: Owner = serde_json::from_str(s).unwrap();
        assert_eq!(serde_json::to_string(&o).unwrap(), s);
        let k = Owner::from_openssh("ssh-ed25519 AAAAC3Nza me@example.com").unwrap();
        assert_eq!(k, o);
        assert_eq!(k.to_openssh(), "ssh-ed25519 AAAAC3Nza me@example.com");
        assert_eq!(Owner::from_openssh(&k.to_openssh()).unwrap(), k);
        assert!(Owner::from_openssh("ssh-ed25519").is_err());
        assert!(serde_json::from_str::<Owner>(r#"{"keytype":"","public":"x"}"#).is_err());
    }
}
