//! Homomorphic operations, as methods of the evaluator's [`TfheServerKey`].
//!
//! Taking the key explicitly (rather than `tfhe`'s thread-local "current server key") means an
//! operation cannot panic for want of a key, and one thread can serve several clients. Each call
//! installs the key for its duration; the cost is an `Arc` clone, nothing beside a bootstrap.
//! Every operation is exact: `add`, `sub` and `mul` wrap modulo 2^`T::BITS`, and the result is a
//! fresh ciphertext (the inputs are not consumed).

use std::ops::{Add, BitAnd, BitOr, BitXor, Mul, Sub};

use tfhe::prelude::{FheEq, FheMax, FheMin, FheOrd, IfThenElse};

use super::keys::TfheServerKey;
use super::uint::{EncryptedBool, EncryptedUint, Uint};

macro_rules! binary_ops {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name<T: Uint>(&self, a: &EncryptedUint<T>, b: &EncryptedUint<T>) -> EncryptedUint<T> {
            EncryptedUint { ct: self.with_installed(|| $op::$name(&a.ct, &b.ct)) }
        }
    )*};
}

macro_rules! comparisons {
    ($($(#[$doc:meta])* $name:ident => $trait:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name<T: Uint>(&self, a: &EncryptedUint<T>, b: &EncryptedUint<T>) -> EncryptedBool {
            EncryptedBool { ct: self.with_installed(|| $trait::$name(&a.ct, &b.ct)) }
        }
    )*};
}

impl TfheServerKey {
    binary_ops! {
        /// `a + b` modulo 2^`T::BITS`.
        add => Add,
        /// `a - b` modulo 2^`T::BITS`.
        sub => Sub,
        /// `a * b` modulo 2^`T::BITS`.
        mul => Mul,
        /// Bitwise `a & b`.
        bitand => BitAnd,
        /// Bitwise `a | b`.
        bitor => BitOr,
        /// Bitwise `a ^ b`.
        bitxor => BitXor,
    }

    comparisons! {
        /// `a == b`.
        eq => FheEq,
        /// `a != b`.
        ne => FheEq,
        /// `a < b`.
        lt => FheOrd,
        /// `a <= b`.
        le => FheOrd,
        /// `a > b`.
        gt => FheOrd,
        /// `a >= b`.
        ge => FheOrd,
    }

    /// Bitwise `!a`.
    pub fn not<T: Uint>(&self, a: &EncryptedUint<T>) -> EncryptedUint<T> {
        EncryptedUint { ct: self.with_installed(|| !&a.ct) }
    }

    /// The smaller of `a` and `b`.
    pub fn min<T: Uint>(&self, a: &EncryptedUint<T>, b: &EncryptedUint<T>) -> EncryptedUint<T> {
        EncryptedUint { ct: self.with_installed(|| FheMin::min(&a.ct, &b.ct)) }
    }

    /// The larger of `a` and `b`.
    pub fn max<T: Uint>(&self, a: &EncryptedUint<T>, b: &EncryptedUint<T>) -> EncryptedUint<T> {
        EncryptedUint { ct: self.with_installed(|| FheMax::max(&a.ct, &b.ct)) }
    }

    /// `if cond { a } else { b }`, without learning `cond`.
    pub fn select<T: Uint>(
        &self,
        cond: &EncryptedBool,
        a: &EncryptedUint<T>,
        b: &EncryptedUint<T>,
    ) -> EncryptedUint<T> {
        EncryptedUint { ct: self.with_installed(|| cond.ct.if_then_else(&a.ct, &b.ct)) }
    }

    /// `a && b` on encrypted bits.
    pub fn and(&self, a: &EncryptedBool, b: &EncryptedBool) -> EncryptedBool {
        EncryptedBool { ct: self.with_installed(|| &a.ct & &b.ct) }
    }

    /// `a || b` on encrypted bits.
    pub fn or(&self, a: &EncryptedBool, b: &EncryptedBool) -> EncryptedBool {
        EncryptedBool { ct: self.with_installed(|| &a.ct | &b.ct) }
    }

    /// `!a` on an encrypted bit.
    pub fn not_bool(&self, a: &EncryptedBool) -> EncryptedBool {
        EncryptedBool { ct: self.with_installed(|| !&a.ct) }
    }
}
