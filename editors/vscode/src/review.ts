// Review before an agent's edit lands: the server sends the change as a proposal
// (`subagent-lsp/reviewEdit`) instead of applying it; this shows it as a diff per file with Accept
// and Discard, and answers with `subagent-lsp.acceptEdit` / `subagent-lsp.discardEdit`. Nothing
// touches the buffer or the disk until the server applies an accepted change.
import * as vscode from "vscode";
import type { ClientCapabilities, FeatureState, StaticFeature } from "vscode-languageclient/node";

export const SCHEME = "subagent-lsp-proposal";
export const REVIEW_NOTIFICATION = "subagent-lsp/reviewEdit";
const PENDING_CONTEXT = "subagentLsp.reviewPending";

export interface ProposedFile {
  uri: string;
  path: string;
  original: string | null;
  proposed: string;
}

export interface Proposal {
  id: string;
  label: string;
  agent: string;
  summary: string;
  files: ProposedFile[];
}

type Send = (command: string, id: string) => Promise<{ message?: string } | null | undefined>;

/** Announces `experimental.subagentLsp.reviewEdits`, so the server proposes instead of applying. */
export class ReviewEditsFeature implements StaticFeature {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    const experimental = (capabilities.experimental ?? {}) as Record<string, Record<string, unknown> | undefined>;
    experimental.subagentLsp = { ...experimental.subagentLsp, reviewEdits: true };
    capabilities.experimental = experimental;
  }

  initialize(): void {}

  getState(): FeatureState {
    return { kind: "static" };
  }

  clear(): void {}
}

/** The proposals waiting for an answer, their read-only documents, and their diffs. */
export class Reviews implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly pending = new Map<string, Proposal>();
  private readonly texts = new Map<string, string>();
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly send: () => Send | undefined) {
    this.disposables = [
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, this),
      vscode.commands.registerCommand("subagentLsp.acceptEdit", (target?: unknown) => this.answer(target, true)),
      vscode.commands.registerCommand("subagentLsp.discardEdit", (target?: unknown) => this.answer(target, false)),
    ];
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? "";
  }

  /** Shows a proposal: one diff per file (current text on the left), then Accept / Discard. */
  async show(proposal: Proposal): Promise<void> {
    this.pending.set(proposal.id, proposal);
    await this.updateContext();
    for (const [index, file] of proposal.files.entries()) {
      const right = this.proposalUri(proposal.id, index, file.path, "proposed");
      this.texts.set(right.toString(), file.proposed);
      let left: vscode.Uri;
      if (file.original === null) {
        left = this.proposalUri(proposal.id, index, file.path, "original");
        this.texts.set(left.toString(), "");
      } else {
        left = vscode.Uri.parse(file.uri);
      }
      const name = file.path.split("/").pop() ?? file.path;
      const created = file.original === null ? ", new file" : "";
      await vscode.commands.executeCommand("vscode.diff", left, right, `${name} (${proposal.agent}'s change${created})`, {
        preview: false,
      });
    }
    const files = proposal.files.map((f) => f.path).join(", ");
    const summary = proposal.summary.trim() ? ` ${proposal.summary.trim()}` : "";
    const choice = await vscode.window.showInformationMessage(
      `${proposal.label}: review the change to ${files}.${summary}`,
      "Accept",
      "Discard",
    );
    if (choice) {
      await this.answer(proposal.id, choice === "Accept");
    }
  }

  /** Accept or discard: ``target`` is a proposal id, a proposal document's uri (editor title
   * buttons pass it), or nothing (the diff in front, else the newest proposal). */
  async answer(target: unknown, accept: boolean): Promise<void> {
    const id = this.idOf(target);
    const send = this.send();
    if (id === undefined || !this.pending.has(id)) {
      return;
    }
    this.pending.delete(id);
    await this.updateContext();
    await this.closeDiffs(id);
    for (const key of [...this.texts.keys()]) {
      if (vscode.Uri.parse(key).query.startsWith(`id=${encodeURIComponent(id)}&`)) {
        this.texts.delete(key);
      }
    }
    if (!send) {
      return;
    }
    const result = await send(accept ? "subagent-lsp.acceptEdit" : "subagent-lsp.discardEdit", id);
    // An accepted change is reported by the server itself, applied or not.
    if (!accept && result?.message) {
      vscode.window.setStatusBarMessage(result.message, 5000);
    }
  }

  /** The server restarted or stopped: its proposals are gone with it. */
  async forgetAll(): Promise<void> {
    for (const id of [...this.pending.keys()]) {
      this.pending.delete(id);
      await this.closeDiffs(id);
    }
    this.texts.clear();
    await this.updateContext();
  }

  dispose(): void {
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }

  private proposalUri(id: string, index: number, path: string, side: string): vscode.Uri {
    const query = `id=${encodeURIComponent(id)}&file=${index}&side=${side}`;
    return vscode.Uri.from({ scheme: SCHEME, path: `/${path.replace(/^\/+/, "")}`, query });
  }

  private idOf(target: unknown): string | undefined {
    if (typeof target === "string") {
      return target;
    }
    let uri = target instanceof vscode.Uri ? target : undefined;
    if (!uri || uri.scheme !== SCHEME) {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      uri = input instanceof vscode.TabInputTextDiff && input.modified.scheme === SCHEME ? input.modified : undefined;
    }
    if (uri) {
      return new URLSearchParams(uri.query).get("id") ?? undefined;
    }
    return [...this.pending.keys()].pop();
  }

  private async closeDiffs(id: string): Promise<void> {
    const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs);
    const ours = tabs.filter(
      (tab) =>
        tab.input instanceof vscode.TabInputTextDiff &&
        tab.input.modified.scheme === SCHEME &&
        new URLSearchParams(tab.input.modified.query).get("id") === id,
    );
    if (ours.length) {
      await vscode.window.tabGroups.close(ours);
    }
  }

  private async updateContext(): Promise<void> {
    await vscode.commands.executeCommand("setContext", PENDING_CONTEXT, this.pending.size > 0);
  }
}
