// subagent-lsp for VS Code: starts the language server, adds "Ask agent…", and shows the active model.
// Code actions and hovers come from the server as they are.
import * as vscode from "vscode";
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
} from "vscode-languageclient/node";

const SECTION = "subagentLsp";
const INSTALL = "pip install subagent-lsp";

interface AgentInfo {
  name: string;
  description: string;
  model: string;
  source: string;
  default?: boolean;
}

let client: LanguageClient | undefined;
let status: vscode.StatusBarItem | undefined;

function serverOptions(): ServerOptions {
  const config = vscode.workspace.getConfiguration(SECTION);
  const serverPath = config.get<string>("serverPath", "").trim();
  const pythonPath = config.get<string>("pythonPath", "").trim();
  if (serverPath) {
    return { command: serverPath, args: [] };
  }
  if (pythonPath) {
    return { command: pythonPath, args: ["-m", "subagent_lsp"] };
  }
  return { command: "subagent-lsp", args: [] };
}

// The server's settings, minus what only the extension uses; an untrusted folder never loads its own
// agents, whatever its settings say.
function serverSettings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const options: Record<string, unknown> = {};
  for (const key of Object.keys(config)) {
    const value = config.get(key);
    if (typeof value === "function" || ["serverPath", "pythonPath"].includes(key)) {
      continue;
    }
    if (value !== "" && value !== undefined && value !== null) {
      options[key] = value;
    }
  }
  if (!vscode.workspace.isTrusted) {
    options.workspaceAgents = false;
  }
  return options;
}

function clientOptions(): LanguageClientOptions {
  return {
    documentSelector: [
      { scheme: "file", language: "typescript" },
      { scheme: "file", language: "typescriptreact" },
      { scheme: "file", language: "markdown", pattern: "**/.claude/agents/*.md" },
    ],
    initializationOptions: { [SECTION]: serverSettings() },
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher("**/.claude/agents/*.md"),
    },
    middleware: {
      workspace: {
        // The server pulls its section; answer with the same filtered view as at start-up, so that a
        // folder's settings cannot turn its own agent files back on while it is untrusted.
        configuration: async (params, token, next) => {
          const answers = await next(params, token);
          if (!Array.isArray(answers)) {
            return answers;
          }
          return params.items.map((item, i) => (item.section === SECTION ? serverSettings() : answers[i]));
        },
      },
    },
  };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  client = new LanguageClient("subagentLsp", "subagent-lsp", serverOptions(), clientOptions());
  // Hover facts come at once and the explanation later: show the hover again when it lands,
  // if the cursor is still on that code.
  client.onNotification(
    "subagent-lsp/explanationReady",
    async (params: { uri: string; range: { start: { line: number; character: number }; end: { line: number; character: number } } }) => {
      const editor = vscode.window.activeTextEditor;
      if (!editor || editor.document.uri.toString() !== vscode.Uri.parse(params.uri).toString()) {
        return;
      }
      const range = new vscode.Range(
        params.range.start.line,
        params.range.start.character,
        params.range.end.line,
        params.range.end.character,
      );
      if (range.contains(editor.selection.active)) {
        // Showing a hover that is already open only focuses it: close it, then ask anew.
        await vscode.commands.executeCommand("editor.action.hideHover");
        await vscode.commands.executeCommand("editor.action.showHover");
      }
    },
  );
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    const choice = await vscode.window.showErrorMessage(
      `subagent-lsp could not start (${String(error)}). Install it with \`${INSTALL}\`, ` +
        "or set subagentLsp.serverPath or subagentLsp.pythonPath.",
      "Open settings",
    );
    if (choice) {
      await vscode.commands.executeCommand("workbench.action.openSettings", SECTION);
    }
    return;
  }
  context.subscriptions.push(client);
  await updateStatus();
}

async function listAgents(): Promise<AgentInfo[]> {
  if (!client || client.state !== State.Running) {
    return [];
  }
  const agents = await client.sendRequest<AgentInfo[] | null>("workspace/executeCommand", {
    command: "subagent-lsp.listAgents",
    arguments: [],
  });
  // The default agent (the one hovers and `@agent:` comments use) first.
  return [...(agents ?? [])].sort((a, b) => Number(Boolean(b.default)) - Number(Boolean(a.default)));
}

function keyIsSet(): boolean {
  const fromSettings = vscode.workspace.getConfiguration(SECTION).get<string>("apiKey", "");
  return Boolean(fromSettings || process.env.ANTHROPIC_API_KEY);
}

async function updateStatus(): Promise<void> {
  if (!status) {
    return;
  }
  const agents = await listAgents().catch(() => [] as AgentInfo[]);
  const model = agents[0]?.model ?? "no agent";
  const key = keyIsSet();
  status.text = `$(hubot) ${model}${key ? "" : " $(warning) no key"}`;
  status.tooltip = key
    ? `subagent-lsp: ${agents.map((a) => a.name).join(", ") || "no agents"}`
    : "subagent-lsp: set ANTHROPIC_API_KEY or subagentLsp.apiKey to run agents";
  status.show();
}

async function askAgent(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!client || !editor) {
    void vscode.window.showWarningMessage("Open a TypeScript file to ask an agent.");
    return;
  }
  const agents = await listAgents();
  let agent = agents[0];
  if (agents.length > 1) {
    const picked = await vscode.window.showQuickPick(
      agents.map((a) => ({ label: a.name, description: a.model, detail: a.description, agent: a })),
      { placeHolder: "Which agent?" },
    );
    if (!picked) {
      return;
    }
    agent = picked.agent;
  }
  const instruction = await vscode.window.showInputBox({
    prompt: `What should ${agent?.name ?? "the agent"} do with the selection?`,
    placeHolder: "add pagination with limit and offset",
  });
  if (!instruction?.trim()) {
    return;
  }
  const running = client;
  const params = {
    command: "subagent-lsp.ask",
    arguments: [
      {
        uri: editor.document.uri.toString(),
        range: running.code2ProtocolConverter.asRange(editor.selection),
        instruction,
        agent: agent?.name,
      },
    ],
  };
  // The server reports tokens and edits in the status bar; this notification is the Cancel button,
  // which cancels the request and with it the model call.
  await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `${agent?.name ?? "Agent"}: ${instruction}`,
      cancellable: true,
    },
    async (_progress, token) => {
      try {
        await running.sendRequest("workspace/executeCommand", params, token);
      } catch (error) {
        if (!token.isCancellationRequested) {
          void vscode.window.showErrorMessage(`subagent-lsp: ${String(error)}`);
        }
      }
    },
  );
}

async function explain(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!client || !editor) {
    return;
  }
  const result = await client.sendRequest<{ markdown?: string | null }>("workspace/executeCommand", {
    command: "subagent-lsp.explain",
    arguments: [
      {
        uri: editor.document.uri.toString(),
        position: client.code2ProtocolConverter.asPosition(editor.selection.active),
      },
    ],
  });
  if (result?.markdown) {
    await vscode.commands.executeCommand("editor.action.showHover");
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  status.command = "subagentLsp.askAgent";
  context.subscriptions.push(
    status,
    vscode.commands.registerCommand("subagentLsp.askAgent", askAgent),
    vscode.commands.registerCommand("subagentLsp.explain", explain),
    vscode.commands.registerCommand("subagentLsp.restart", async () => {
      await client?.stop();
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration(`${SECTION}.serverPath`) || event.affectsConfiguration(`${SECTION}.pythonPath`)) {
        await client?.stop();
        await start(context);
      } else if (event.affectsConfiguration(SECTION)) {
        // No payload: the server pulls the section again, through the filter above.
        await client?.sendNotification("workspace/didChangeConfiguration", { settings: null });
        await updateStatus();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(async () => {
      await client?.stop();
      await start(context);
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
