//! The operations of one execution, in first-start order, with an id index.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::Operation;

/// Operations in the order they were first started, looked up by id in O(1).
///
/// Serialized as a plain list; the index is rebuilt when read back.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct OperationLog {
    operations: Vec<Operation>,
    index: HashMap<String, usize>,
}

impl OperationLog {
    /// All operations, in first-start order.
    pub fn as_slice(&self) -> &[Operation] {
        &self.operations
    }

    /// How many operations there are.
    pub fn len(&self) -> usize {
        self.operations.len()
    }

    /// The operation with this id.
    pub fn get(&self, id: &str) -> Option<&Operation> {
        self.index
            .get(id)
            .map(|&position| &self.operations[position])
    }

    /// The position of the operation with this id.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Operation> {
        self.index
            .get(id)
            .map(|&position| &mut self.operations[position])
    }

    pub(crate) fn at(&self, position: usize) -> Option<&Operation> {
        self.operations.get(position)
    }

    /// The operation with this id, made by `make` and appended if missing.
    pub(crate) fn get_or_insert_with(
        &mut self,
        id: &str,
        make: impl FnOnce() -> Operation,
    ) -> &mut Operation {
        let position = if let Some(&position) = self.index.get(id) {
            position
        } else {
            let operation = make();
            let position = self.operations.len();
            self.index.insert(operation.id.clone(), position);
            self.operations.push(operation);
            position
        };
        &mut self.operations[position]
    }

    /// Appends a new operation; replaces the one with the same id if any.
    pub(crate) fn insert(&mut self, operation: Operation) {
        if let Some(&position) = self.index.get(&operation.id) {
            self.operations[position] = operation;
        } else {
            self.index
                .insert(operation.id.clone(), self.operations.len());
            self.operations.push(operation);
        }
    }
}

impl From<Vec<Operation>> for OperationLog {
    fn from(operations: Vec<Operation>) -> Self {
        let mut log = Self::default();
        for operation in operations {
            log.insert(operation);
        }
        log
    }
}

impl Serialize for OperationLog {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.operations.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for OperationLog {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<Operation>::deserialize(deserializer).map(Self::from)
    }
}
