// subagent-lsp for VS Code: starts the language server, adds "Ask agent…", shows which agent runs
// (or that the key is missing), and shows an agent's change as a diff to accept or discard.
// Code actions and hovers come from the server as they are.
import * as vscode from "vscode";
import {
  LanguageClient,
  type LanguageClientOptions,
  MessageType,
  type ServerOptions,
  ShowMessageNotification,
  State,
} from "vscode-languageclient/node";
import { type Proposal, REVIEW_NOTIFICATION, ReviewEditsFeature, Reviews } from "./review";

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
let reviews: Reviews | undefined;

const KEY_SETTING = `${SECTION}.apiKey`;
const NEED_KEY = "subagent-lsp needs an Anthropic API key to run agents: set ANTHROPIC_API_KEY or subagentLsp.apiKey.";

function openSetting(setting: string): Thenable<unknown> {
  return vscode.commands.executeCommand("workbench.action.openSettings", setting);
}

// The setting a message is about: the first `subagentLsp.*` it names, or the key setting when it
// names the key's variable.
function settingIn(message: string): string | undefined {
  const named = /\bsubagentLsp(?:\.[A-Za-z]+)+/.exec(message)?.[0];
  return named ?? (message.includes("ANTHROPIC_API_KEY") ? KEY_SETTING : undefined);
}

// Every message that says which setting to change offers to open it.
async function showMessage(type: MessageType, message: string): Promise<void> {
  const show =
    type === MessageType.Error
      ? vscode.window.showErrorMessage
      : type === MessageType.Warning
        ? vscode.window.showWarningMessage
        : vscode.window.showInformationMessage;
  const setting = settingIn(message);
  const choice = setting ? await show(message, "Open settings") : await show(message);
  if (choice && setting) {
    await openSetting(setting);
  }
}

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
function serverSettings(scope?: vscode.Uri): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
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
          // A folder's own values when the server asks for one (scopeUri), as with several folders.
          return params.items.map((item, i) =>
            item.section === SECTION
              ? serverSettings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined)
              : answers[i],
          );
        },
      },
    },
  };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  client = new LanguageClient("subagentLsp", "subagent-lsp", serverOptions(), clientOptions());
  client.registerFeature(new ReviewEditsFeature());
  client.onNotification(ShowMessageNotification.type, (params) => void showMessage(params.type, params.message));
  client.onNotification(REVIEW_NOTIFICATION, (proposal: Proposal) => void reviews?.show(proposal));
  client.onDidChangeState((event) => {
    if (event.newState === State.Stopped) {
      void reviews?.forgetAll();
    }
  });
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
    await updateStatus();
    const choice = await vscode.window.showErrorMessage(
      `subagent-lsp could not start (${String(error)}). Install it with \`${INSTALL}\`, ` +
        "or set subagentLsp.serverPath or subagentLsp.pythonPath.",
      "Open settings",
    );
    if (choice) {
      await openSetting(SECTION);
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

// The extension's name and the agent it would run; without a key, a warning that opens the setting.
async function updateStatus(): Promise<void> {
  if (!status) {
    return;
  }
  if (!keyIsSet()) {
    status.text = "$(warning) subagent-lsp: no API key";
    status.tooltip = `${NEED_KEY} Click to open the setting.`;
    status.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
    status.command = { title: "Open settings", command: "workbench.action.openSettings", arguments: [KEY_SETTING] };
    status.show();
    return;
  }
  status.backgroundColor = undefined;
  if (!client) {
    status.text = "$(error) subagent-lsp: not running";
    status.tooltip = "The server did not start: click to open the settings that say where it is.";
    status.command = { title: "Open settings", command: "workbench.action.openSettings", arguments: [SECTION] };
    status.show();
    return;
  }
  const agents = await listAgents().catch(() => [] as AgentInfo[]);
  const agent = agents[0];
  status.text = `$(hubot) subagent-lsp: ${agent?.name ?? "no agent"}`;
  const others = agents.slice(1).map((a) => a.name);
  status.tooltip = agent
    ? `subagent-lsp runs ${agent.name} (${agent.model}) for hover explanations and new requests` +
      (others.length ? `; also: ${others.join(", ")}` : "") +
      ". Click to ask an agent."
    : "subagent-lsp found no agent. Click to ask anyway.";
  status.command = "subagentLsp.askAgent";
  status.show();
}

async function askAgent(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!keyIsSet()) {
    await showMessage(MessageType.Warning, NEED_KEY);
    return;
  }
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
          void showMessage(MessageType.Error, `subagent-lsp: ${String(error)}`);
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
  status = vscode.window.createStatusBarItem("subagentLsp.status", vscode.StatusBarAlignment.Right, 100);
  status.name = "subagent-lsp";
  reviews = new Reviews(() => {
    const running = client;
    if (!running || running.state !== State.Running) {
      return undefined;
    }
    return async (command, id) => {
      try {
        return await running.sendRequest<{ message?: string } | null>("workspace/executeCommand", {
          command,
          arguments: [id],
        });
      } catch (error) {
        void showMessage(MessageType.Error, `subagent-lsp: ${String(error)}`);
        return undefined;
      }
    };
  });
  context.subscriptions.push(
    status,
    reviews,
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
