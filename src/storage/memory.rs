use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{Listed, ListedKind, Storage, StorageError, StorageKey};

/// Tarballs in memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    objects: Mutex<BTreeMap<StorageKey, Vec<u8>>>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored key, sorted.
    pub fn keys(&self) -> Vec<StorageKey> {
        self.objects.lock().unwrap().keys().cloned().collect()
    }
}

impl Storage for MemoryStorage {
    fn get(&self, key: &StorageKey) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.objects.lock().unwrap().get(key).cloned())
    }

    fn write_new(&self, key: &StorageKey, bytes: &[u8]) -> Result<bool, StorageError> {
        let mut objects = self.objects.lock().unwrap();
        if objects.contains_key(key) {
            return Ok(false);
        }
        objects.insert(key.clone(), bytes.to_vec());
        Ok(true)
    }

    fn replace_if(
        &self,
        key: &StorageKey,
        expected: Option<&[u8]>,
        bytes: &[u8],
    ) -> Result<bool, StorageError> {
        let mut objects = self.objects.lock().unwrap();
        if objects.get(key).map(Vec::as_slice) != expected {
            return Ok(false);
        }
        objects.insert(key.clone(), bytes.to_vec());
        Ok(true)
    }

    fn delete(&self, key: &StorageKey) -> Result<bool, StorageError> {
        Ok(self.objects.lock().unwrap().remove(key).is_some())
    }

    fn touch(&self, _: &StorageKey) -> Result<(), StorageError> {
        Ok(())
    }

    fn list(&self) -> Result<Vec<Listed>, StorageError> {
        let objects = self.objects.lock().unwrap();
        Ok(objects
            .iter()
            .map(|(key, bytes)| Listed {
                path: key.to_string(),
                kind: ListedKind::of(key.as_str()),
                bytes: bytes.len() as u64,
                age: std::time::Duration::ZERO,
            })
            .collect())
    }

    /// Writes in memory are never interrupted.
    fn sweep_temporary(&self, _: std::time::Duration) -> Result<Vec<String>, StorageError> {
        Ok(vec![])
    }

    fn describe(&self) -> String {
        "memory".into()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn follows_the_storage_contract() {
        super::super::contract::check(&super::MemoryStorage::new());
    }
}
