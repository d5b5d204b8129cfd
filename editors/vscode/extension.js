// The exportctl language client: starts `exportctl lsp` (stdio) for .policy files.
// Everything the editor shows (diagnostics, hover, definitions, completion, formatting) comes
// from the server, so the editor and `exportctl check` / `exportctl fmt` always agree.
"use strict";

const path = require("path");
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function serverCommand() {
  const configured = vscode.workspace.getConfiguration("exportctl").get("server.command") || ["exportctl", "lsp"];
  const [command, ...args] = configured;
  // a relative command (".venv/bin/exportctl") is taken from the first workspace folder
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  const resolved = folder && command.includes("/") && !path.isAbsolute(command)
    ? path.join(folder.uri.fsPath, command) : command;
  return { command: resolved, args, transport: TransportKind.stdio };
}

function activate(context) {
  const server = serverCommand();
  client = new LanguageClient(
    "exportctl",
    "exportctl language server",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "exportctl" }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/{*.policy,cases/*.yaml}") },
    }
  );
  context.subscriptions.push(client);
  return client.start().catch((err) => {
    vscode.window.showErrorMessage(
      `exportctl: could not start the language server (${server.command} ${server.args.join(" ")}): ${err.message}. ` +
      "Install it with pip install 'exportctl[lsp]' or set exportctl.server.command."
    );
  });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
