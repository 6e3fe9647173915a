//! The FieldSync field-day demo (being built).

fn main() {}
