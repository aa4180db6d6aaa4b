//! The operations of one execution, in first-start order, with an id index
//! and a note of which ones changed.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::Operation;

/// Operations in the order they were first started, looked up by id in O(1).
///
/// Every mutable access marks the operation as changed, so that
/// [`take_changed`](Self::take_changed) lists what to write back in
/// O(changes). Serialized as a plain list; the index is rebuilt when read
/// back and nothing counts as changed then. Equality compares the
/// operations only.
#[derive(Debug, Clone, Default)]
pub(crate) struct OperationLog {
    operations: Vec<Operation>,
    index: HashMap<String, usize>,
    /// Positions changed since the last [`take_changed`](Self::take_changed).
    changed: BTreeSet<usize>,
}

impl PartialEq for OperationLog {
    fn eq(&self, other: &Self) -> bool {
        self.operations == other.operations
    }
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

    /// The operation with this id, marked as changed.
    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Operation> {
        let position = *self.index.get(id)?;
        self.changed.insert(position);
        Some(&mut self.operations[position])
    }

    pub(crate) fn at(&self, position: usize) -> Option<&Operation> {
        self.operations.get(position)
    }

    /// The operation with this id, made by `make` and appended if missing;
    /// marked as changed.
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
        self.changed.insert(position);
        &mut self.operations[position]
    }

    /// Appends a new operation; replaces the one with the same id if any.
    /// Marked as changed.
    pub(crate) fn insert(&mut self, operation: Operation) {
        let position = if let Some(&position) = self.index.get(&operation.id) {
            self.operations[position] = operation;
            position
        } else {
            let position = self.operations.len();
            self.index.insert(operation.id.clone(), position);
            self.operations.push(operation);
            position
        };
        self.changed.insert(position);
    }

    /// The positions changed since the last call, in ascending order;
    /// forgets them.
    pub(crate) fn take_changed(&mut self) -> BTreeSet<usize> {
        std::mem::take(&mut self.changed)
    }
}

/// A log of `operations` in the given order, with nothing marked as changed.
/// A later operation with the id of an earlier one replaces it.
impl From<Vec<Operation>> for OperationLog {
    fn from(operations: Vec<Operation>) -> Self {
        let mut log = Self::default();
        for operation in operations {
            log.insert(operation);
        }
        log.changed.clear();
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
