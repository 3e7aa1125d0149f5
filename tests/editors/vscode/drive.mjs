// Drives real VS Code (code-server) in headless Chromium the way a user would, for test_vscode.py:
// open a route file, then the $STEPS in order: codeAction (select a line, pick from the Ctrl+. menu),
// askAgent ("Ask agent…" from the command palette), hover (Show Hover on a route), quickFix (a
// diagnostic's fix from the Ctrl+. menu), problems (the Problems panel), statusBar (click the status
// bar item), and the steps of a missing key. A step written `step@how` meets the agent's change as a
// diff and answers it: `accept` or `discard` from the notification, `title` with the diff's Accept
// button; an accepted change is then saved.
// Reads its inputs from the environment and writes what it saw to $RESULT as JSON; the Python test
// judges it. On failure it leaves a screenshot.
import { readFileSync, writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
};

const WAIT = 90_000;
const result = { steps: [], error: null };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  // Without the background-networking flags Chromium keeps dialling out of a closed network.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });

async function editorText() {
  // Monaco renders only visible lines; the model behind the editor has the whole text.
  return page.evaluate(() => {
    const lines = [...document.querySelectorAll(".editor-instance .view-lines .view-line")];
    return lines.map((line) => line.textContent).join("\n");
  });
}

async function runCommand(title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: WAIT });
  await input.fill(`>${title}`);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().click();
}

// The Settings editor opens over the workbench: Escape closes it. Focus then goes back where it
// was (a focused status bar item shows its tooltip over the notifications): go to the editor.
async function closeSettings() {
  const settings = page.locator(".settings-editor").first();
  for (let attempt = 0; (await settings.isVisible()) && attempt < 20; attempt++) {
    await page.keyboard.press("Escape");
    await page.waitForTimeout(300);
  }
  await settings.waitFor({ state: "hidden", timeout: WAIT });
  await runCommand("View: Focus Active Editor Group");
}

// A button in a notification. The status bar item sits under the notifications: a mouse that
// passes over it while a notification slides in opens its tooltip on top of the buttons, and that
// tooltip stays while the mouse rests on it. Move away and click again until the click lands.
async function clickButton(button) {
  for (let attempt = 0; ; attempt++) {
    await page.mouse.move(700, 300);
    await page.locator(".context-view .hover-contents").waitFor({ state: "hidden", timeout: 5_000 }).catch(() => {});
    try {
      await button.click({ timeout: 5_000 });
      return;
    } catch (error) {
      if (attempt === 10) {
        throw error;
      }
    }
  }
}

function toast(text) {
  return page.locator(".notifications-toasts .notification-list-item", { hasText: text }).first();
}

async function goToLine(line, column) {
  await runCommand("Go to Line/Column");
  const input = page.locator(".quick-input-widget input");
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press("Enter");
  await page.locator(".quick-input-widget").waitFor({ state: "hidden", timeout: WAIT });
}

async function waitForText(fragment) {
  const deadline = Date.now() + WAIT;
  while (Date.now() < deadline) {
    if ((await editorText()).replace(/\u00a0/g, " ").includes(fragment)) {
      return;
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`the editor never showed ${JSON.stringify(fragment)}`);
}

// Ctrl+S until the file on disk has the change: what a user would check, whatever the tab shows.
async function save(expected) {
  const deadline = Date.now() + WAIT;
  while (Date.now() < deadline) {
    await page.keyboard.press("Control+S");
    for (let i = 0; i < 10; i++) {
      if (readFileSync(env("ROUTE_FILE"), "utf8").includes(expected)) {
        return;
      }
      await page.waitForTimeout(300);
    }
  }
  throw new Error(`${env("ROUTE_FILE")} never got ${JSON.stringify(expected)} on disk`);
}

// The agent's change as a diff (the proposed text on the right) and a notification; answer it.
async function review(how, expected) {
  const diff = page.locator(".monaco-diff-editor").first();
  await diff.waitFor({ state: "visible", timeout: WAIT });
  const proposed = diff.locator(".editor.modified .view-lines");
  const deadline = Date.now() + WAIT;
  while (!(await proposed.innerText()).replace(/\u00a0/g, " ").includes(expected)) {
    if (Date.now() > deadline) {
      throw new Error(`the diff never showed ${JSON.stringify(expected)}`);
    }
    await page.waitForTimeout(200);
  }
  const note = toast("review the change");
  await note.waitFor({ state: "visible", timeout: WAIT });
  const seen = {
    tab: (await page.locator(".tabs-container .tab.active").first().innerText()).trim(),
    notification: (await note.innerText()).trim(),
    // The left side is the document as it is: nothing has landed yet, in the buffer or on disk.
    current: (await diff.locator(".editor.original .view-lines").innerText()).replace(/\u00a0/g, " "),
    onDisk: readFileSync(env("ROUTE_FILE"), "utf8"),
  };
  if (how === "title") {
    await page.locator(".editor-actions .action-label[aria-label^=\"Accept agent's change\"]").first().click();
  } else {
    const button = how === "accept" ? "Accept" : "Discard";
    await clickButton(note.locator(".monaco-button", { hasText: button }).first());
  }
  await diff.waitFor({ state: "hidden", timeout: WAIT });
  return seen;
}

// Run after picking an action: the change lands (through its review when `how` says so) and is
// saved, or is discarded and leaves nothing behind.
async function land(expected, how) {
  const seen = how ? await review(how, expected) : {};
  if (how === "discard") {
    // Give a wrongly applied edit time to show up before saying it did not.
    await page.waitForTimeout(2_000);
    seen.afterDiscard = await editorText();
    seen.onDisk = readFileSync(env("ROUTE_FILE"), "utf8");
    seen.dirtyTabs = await page.locator(".tabs-container .tab.dirty").count();
    return seen;
  }
  await waitForText(expected);
  await save(expected);
  return seen;
}
async function codeAction(how) {
  await goToLine(env("ACTION_LINE"), 1);
  await page.keyboard.press("End");
  await page.keyboard.press("Shift+Home");
  // Ctrl+. : the code action menu at the selection, as the light bulb opens it. A key pressed while
  // the editor is still settling can be swallowed, so ask again rather than wait forever.
  const menu = page.locator(".action-widget:not(.action-list-submenu-panel)").first();
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press("Control+Period");
    try {
      await menu.waitFor({ state: "visible", timeout: 5_000 });
      break;
    } catch (error) {
      if (attempt === 10) {
        throw error;
      }
      await page.keyboard.press("Escape");
    }
  }
  const titles = await menu.locator(".action-widget-action-label, .monaco-list-row").allInnerTexts();
  const step = { step: "codeAction", titles: titles.map((t) => t.trim()).filter(Boolean) };
  result.steps.push(step);
  await menu.locator(".monaco-list-row", { hasText: env("ACTION_TITLE") }).first().click();
  if (process.env.ACTION_RESULT) {
    step.review = await land(env("ACTION_RESULT"), how);
  }
}

async function askAgent(how) {
  await goToLine(env("ASK_LINE"), 1);
  await page.keyboard.press("End");
  await page.keyboard.press("Shift+Home");
  await runCommand("subagent-lsp: Ask agent…");
  // A picker when there are several agents, straight to the instruction box when there is one.
  const picker = page.locator(".quick-input-widget");
  const agentRow = picker.locator(".monaco-list-row", { hasText: env("ASK_AGENT") }).first();
  const prompt = picker.locator(".quick-input-message, .quick-input-header", { hasText: "What should" }).first();
  await agentRow.or(prompt).first().waitFor({ state: "visible", timeout: WAIT });
  let agents = [];
  if (await agentRow.isVisible()) {
    agents = (await picker.locator(".monaco-list-row").allInnerTexts()).map((row) => row.trim());
    await agentRow.click();
  }
  await prompt.waitFor({ timeout: WAIT });
  result.askPrompt = (await prompt.innerText()).trim();
  await picker.locator("input").fill(env("ASK_INSTRUCTION"));
  await page.keyboard.press("Enter");
  // The server's progress, in the status bar while the (slowed) model answers.
  const progress = page.locator(".statusbar-item", { hasText: env("ASK_PROGRESS") }).first();
  await progress.waitFor({ state: "visible", timeout: WAIT });
  const progressText = (await progress.innerText()).trim();
  const step = { step: "ask", agents, progress: progressText };
  result.steps.push(step);
  step.review = await land(env("ASK_RESULT"), how);
}

async function hover() {
  const [hoverLine, hoverColumn] = env("HOVER_AT").split(":");
  await goToLine(hoverLine, hoverColumn);
  await runCommand("Show or Focus Hover");
  await page.locator(".monaco-hover", { hasText: env("HOVER_EXPECT") }).first().waitFor({ timeout: WAIT });
  result.hover = (await page.locator(".monaco-hover").first().innerText()).trim();
}

// A hint from the code's facts: Ctrl+. on it until its quick fix is offered (the hint is computed
// a moment after the file changed), then pick it.
async function quickFix(how) {
  const [fixLine, fixColumn] = env("FIX_AT").split(":");
  const menu = page.locator(".action-widget:not(.action-list-submenu-panel)").first();
  const fix = menu.locator(".monaco-list-row", { hasText: env("FIX_TITLE") }).first();
  let titles = [];
  for (let attempt = 0; ; attempt++) {
    await goToLine(fixLine, fixColumn);
    await page.keyboard.press("Control+Period");
    try {
      await menu.waitFor({ state: "visible", timeout: 5_000 });
      titles = (await menu.locator(".action-widget-action-label, .monaco-list-row").allInnerTexts())
        .map((t) => t.trim())
        .filter(Boolean);
      if (await fix.isVisible()) {
        break;
      }
    } catch (error) {
      if (attempt === 20) {
        throw error;
      }
    }
    if (attempt === 20) {
      throw new Error(`no ${env("FIX_TITLE")} among ${JSON.stringify(titles)}`);
    }
    await page.keyboard.press("Escape");
    await page.waitForTimeout(500);
  }
  const step = { step: "quickFix", titles };
  result.steps.push(step);
  await fix.click();
  step.review = await land(env("FIX_RESULT"), how);
}

// The Problems panel lists the review's finding, with the agent as its source.
async function problems() {
  await runCommand("View: Focus Problems");
  const row = page.locator(".markers-panel .monaco-list-row", { hasText: env("PROBLEM") }).first();
  await row.waitFor({ state: "visible", timeout: WAIT });
  const rows = await page.locator(".markers-panel .monaco-list-row").allInnerTexts();
  result.steps.push({ step: "problems", rows: rows.map((r) => r.trim()) });
  // Back to the file, for the steps after.
  await runCommand("View: Focus Active Editor Group");
}

// Without a key: the status bar item warns, and a click opens the key's setting.
async function statusBar() {
  const item = page.locator(".statusbar-item", { hasText: env("STATUS_TEXT") }).first();
  const classes = (await item.getAttribute("class")) ?? "";
  await item.click();
  // Leave the item, or its tooltip stays open over the notifications.
  await page.mouse.move(700, 300);
  await page.locator(".context-view .hover-contents").waitFor({ state: "hidden", timeout: WAIT });
  const setting = page.locator(".settings-editor .setting-item-contents", { hasText: env("SETTING") }).first();
  await setting.waitFor({ state: "visible", timeout: WAIT });
  result.steps.push({ step: "statusBar", classes, setting: (await setting.innerText()).trim() });
  await closeSettings();
}

// A message that names a setting offers to open it: click its button, see the setting.
async function openSettingsFrom(message) {
  const note = toast(message);
  await note.waitFor({ state: "visible", timeout: WAIT });
  const text = (await note.innerText()).trim();
  await clickButton(note.locator(".monaco-button", { hasText: "Open settings" }).first());
  const setting = page.locator(".settings-editor .setting-item-contents", { hasText: env("SETTING") }).first();
  await setting.waitFor({ state: "visible", timeout: WAIT });
  await closeSettings();
  return text;
}

// Without a key, "Ask agent…" says so (with the button) instead of asking for an instruction.
async function askWithoutKey() {
  await runCommand("subagent-lsp: Ask agent…");
  const text = await openSettingsFrom(env("NO_KEY_ASK"));
  const asked = await page.locator(".quick-input-widget", { hasText: "What should" }).isVisible();
  result.steps.push({ step: "askWithoutKey", notification: text, asked });
}

// Without a key, the server's error about it carries the same button.
async function actionWithoutKey() {
  await codeAction();
  const text = await openSettingsFrom(env("NO_KEY_ACTION"));
  result.steps.push({ step: "actionWithoutKey", notification: text });
}

const STEPS = { codeAction, askAgent, hover, quickFix, problems, statusBar, askWithoutKey, actionWithoutKey };

try {
  await page.goto(`${env("CODE_SERVER_URL")}/?folder=${encodeURIComponent(env("WORKSPACE"))}`);
  await page.locator(".monaco-workbench").waitFor({ timeout: WAIT });

  // The extension is running once its status bar item names the agent (or says what is missing).
  const status = page.locator(".statusbar-item", { hasText: env("STATUS_TEXT") });
  await status.first().waitFor({ timeout: WAIT });
  result.status = (await status.first().innerText()).trim();

  await runCommand("Go to File");
  await page.locator(".quick-input-widget input").fill(env("ROUTE_NAME"));
  await page.locator(".quick-input-list .monaco-list-row", { hasText: env("ROUTE_NAME") }).first().click();
  await waitForText(env("FILE_SHOWS"));

  for (const step of env("STEPS").split(",")) {
    const [name, how] = step.split("@");
    await STEPS[name](how);
  }
} catch (error) {
  result.error = String(error?.stack ?? error);
  result.notifications = await page
    .locator(".notification-list-item")
    .allInnerTexts()
    .catch(() => []);
  await page.screenshot({ path: env("SCREENSHOT") }).catch(() => {});
} finally {
  writeFileSync(env("RESULT"), JSON.stringify(result, null, 2));
  await browser.close();
}
