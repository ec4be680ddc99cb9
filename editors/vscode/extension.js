// The flowlang extension: starts `flowlang lsp` and connects it to the `.flow` files of VS Code.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace
    .getConfiguration("flowlang")
    .get("server.command", ["flowlang", "lsp"]);
  client = new LanguageClient(
    "flowlang",
    "flowlang",
    { command, args },
    { documentSelector: [{ language: "flowlang" }] }
  );
  context.subscriptions.push(client);
  return client.start().catch((error) => {
    vscode.window.showErrorMessage(
      `flowlang: could not start "${command} ${args.join(" ")}" (${error.message}). ` +
        "Install flowlang with its lsp extra (pip install 'flowlang[lsp]') or set flowlang.server.command."
    );
  });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
