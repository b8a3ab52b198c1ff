//! Splitting SQL text into statements: tokenized with the session's SQL dialect (so a
//! `;` inside a string, identifier or comment does not split), one [`Statement`] per
//! `;`-terminated piece, numbered and located by line for error messages.

use datafusion::common::{Result, plan_datafusion_err};
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// 1-based position among the statements of its source.
    pub number: usize,
    /// 1-based line of its first token.
    pub line: u64,
    pub sql: String,
}

/// The statements of `sql`; pieces holding only whitespace and comments are skipped.
pub fn split(ctx: &SessionContext, sql: &str) -> Result<Vec<Statement>> {
    let dialect = datafusion_cpg::optimizer::policy::session_dialect(ctx);
    let tokens = Tokenizer::new(dialect.as_ref(), sql)
        .tokenize_with_location()
        .map_err(|e| plan_datafusion_err!("cannot split the SQL into statements: {e}"))?;

    let mut statements = Vec::new();
    let mut text = String::new();
    let mut line = None;
    let mut finish = |text: &mut String, line: &mut Option<u64>| {
        if let Some(first_line) = line.take() {
            statements.push(Statement {
                number: statements.len() + 1,
                line: first_line,
                sql: std::mem::take(text),
            });
        }
        text.clear();
    };
    for token in tokens {
        match token.token {
            Token::SemiColon => finish(&mut text, &mut line),
            Token::EOF => {}
            other => {
                if !matches!(other, Token::Whitespace(_)) && line.is_none() {
                    line = Some(token.span.start.line);
                }
                text.push_str(&other.to_string());
            }
        }
    }
    finish(&mut text, &mut line);
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_semicolons_outside_strings_and_comments() {
        let ctx = SessionContext::new();
        let sql =
            "-- a comment; not a split\nSELECT 'a;b' AS x;\n\n  /* ; */ SELECT 2\n;\n-- trailing\n";
        let statements = split(&ctx, sql).unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0].number, 1);
        assert_eq!(statements[0].line, 2);
        assert!(statements[0].sql.contains("SELECT 'a;b' AS x"));
        assert_eq!(statements[1].number, 2);
        assert_eq!(statements[1].line, 4);
        assert!(statements[1].sql.trim_end().ends_with("SELECT 2"));
    }

    #[test]
    fn a_last_statement_without_semicolon_counts() {
        let ctx = SessionContext::new();
        let statements = split(&ctx, "SELECT 1; SELECT 2").unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[1].sql.trim(), "SELECT 2");
        assert!(split(&ctx, " -- nothing\n").unwrap().is_empty());
    }

    #[test]
    fn an_unterminated_string_is_an_error() {
        let ctx = SessionContext::new();
        let error = split(&ctx, "SELECT 'oops").unwrap_err().to_string();
        assert!(
            error.contains("cannot split the SQL into statements"),
            "{error}"
        );
    }
}
