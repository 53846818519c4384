//! How SQLite may scan a virtual table of `db.table()` (its xBestIndex),
//! exactly as better-sqlite3 plans it: every constraint on a parameter (a
//! hidden column) must be `=` and usable, and is handed to xFilter; bit `i`
//! of the plan's number says parameter `i` arrives there, in parameter order.

use rusqlite::ffi;

/// One constraint SQLite offers: the column, the operator, whether usable now.
#[derive(Debug, Clone, Copy)]
pub struct Constraint {
    /// The constrained column (parameters come first, as hidden columns).
    pub column: i32,
    /// `SQLITE_INDEX_CONSTRAINT_*`.
    pub op: i32,
    /// Whether the right-hand side is known when the scan starts.
    pub usable: bool,
}

/// A plan: which parameters xFilter gets, and where SQLite finds them.
#[derive(Debug, PartialEq)]
pub struct Plan {
    /// Bit `i` set: parameter `i` is given (better-sqlite3's idxNum).
    pub idx_num: i32,
    /// Per constraint: its 1-based place among xFilter's arguments (0: not passed).
    pub argv_index: Vec<i32>,
    /// The cost; high so SQLite does not run the generator inside a loop if it can avoid it.
    pub cost: f64,
}

/// Why a plan was refused.
#[derive(Debug, PartialEq)]
pub enum Refused {
    /// A parameter constrained by another operator than `=`: the message for SQLite.
    Operator(String),
    /// A parameter's value is not known yet: SQLite must find another plan (SQLITE_CONSTRAINT).
    Unusable,
}

/// Plans a scan of a table whose first `parameters.len()` columns are parameters.
pub fn plan(parameters: &[String], constraints: &[Constraint]) -> Result<Plan, Refused> {
    let count = parameters.len() as i32;
    let mut forwarded = Vec::new();
    for (i, item) in constraints.iter().enumerate() {
        // LIMIT and OFFSET have no column.
        if item.op == ffi::SQLITE_INDEX_CONSTRAINT_LIMIT || item.op == ffi::SQLITE_INDEX_CONSTRAINT_OFFSET {
            continue;
        }
        if item.column < 0 || item.column >= count {
            continue;
        }
        if item.op != ffi::SQLITE_INDEX_CONSTRAINT_EQ {
            return Err(Refused::Operator(format!(
                "virtual table parameter \"{}\" can only be constrained by the '=' operator",
                parameters[item.column as usize]
            )));
        }
        if !item.usable {
            // A plan that ignores an argument would show it as undefined to the generator.
            return Err(Refused::Unusable);
        }
        forwarded.push((item.column, i));
    }
    forwarded.sort_unstable();
    let mut plan = Plan { idx_num: 0, argv_index: vec![0; constraints.len()], cost: 0.0 };
    let mut arguments = 0;
    for (column, i) in forwarded {
        let bit = 1 << column;
        if plan.idx_num & bit == 0 {
            plan.idx_num |= bit;
            arguments += 1;
            plan.argv_index[i] = arguments;
        }
    }
    plan.cost = (1_000_000_000 / (arguments + 1)) as f64;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("${i}")).collect()
    }

    const EQ: i32 = ffi::SQLITE_INDEX_CONSTRAINT_EQ;

    #[test]
    fn parameters_are_passed_in_parameter_order_once_each() {
        let constraints = [
            Constraint { column: 1, op: EQ, usable: true },
            Constraint { column: 1, op: EQ, usable: true },
            Constraint { column: 0, op: EQ, usable: true },
            Constraint { column: 2, op: EQ, usable: true }, // a regular column
        ];
        let plan = plan(&names(2), &constraints).unwrap();
        assert_eq!(plan.idx_num, 0b11);
        assert_eq!(plan.argv_index, vec![2, 0, 1, 0]);
        assert_eq!(plan.cost, (1_000_000_000 / 3) as f64);
    }

    #[test]
    fn other_operators_and_unusable_constraints_are_refused_limit_ignored() {
        let gt = [Constraint { column: 0, op: ffi::SQLITE_INDEX_CONSTRAINT_GT, usable: true }];
        assert_eq!(
            plan(&names(1), &gt),
            Err(Refused::Operator("virtual table parameter \"$1\" can only be constrained by the '=' operator".into()))
        );
        let unusable = [Constraint { column: 0, op: EQ, usable: false }];
        assert_eq!(plan(&names(1), &unusable), Err(Refused::Unusable));
        let limit = [Constraint { column: 0, op: ffi::SQLITE_INDEX_CONSTRAINT_LIMIT, usable: true }];
        assert_eq!(plan(&names(1), &limit).unwrap().idx_num, 0);
    }
}
