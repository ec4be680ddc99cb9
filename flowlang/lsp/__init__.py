"""The flowlang language server (`flowlang lsp`): editor features built on the checker and fmt."""
