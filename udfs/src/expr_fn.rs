//! DataFrame builders: `stable_id(vec![lit("node"), col("path")])` and so on.

use datafusion::logical_expr::Expr;

macro_rules! expr_builder {
    ($name:ident) => {
        #[doc = concat!("`", stringify!($name), "(args...)` as an [`Expr`].")]
        pub fn $name(args: Vec<Expr>) -> Expr {
            super::$name().call(args)
        }
    };
}

expr_builder!(stable_hash64);
expr_builder!(stable_hash128);
expr_builder!(stable_id);
expr_builder!(xxhash64);
expr_builder!(span_len);
expr_builder!(span_overlaps);
expr_builder!(span_contains);
expr_builder!(utf8_normalize);
expr_builder!(qname_normalize);
expr_builder!(list_enumerate);
