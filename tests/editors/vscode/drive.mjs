// Drives real VS Code (code-server) in headless Chromium the way a user would, for test_vscode.py:
// open a route file, then the $STEPS in order: codeAction (select a line, pick from the Ctrl+. menu,
// save), askAgent ("Ask agent…" from the command palette, save), hover (Show Hover on a route).
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
async function codeAction() {
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
  result.steps.push({ step: "codeAction", titles: titles.map((t) => t.trim()).filter(Boolean) });
  await menu.locator(".monaco-list-row", { hasText: env("ACTION_TITLE") }).first().click();
  await waitForText(env("ACTION_RESULT"));
  await save(env("ACTION_RESULT"));
}

async function askAgent() {
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
  await waitForText(env("ASK_RESULT"));
  await save(env("ASK_RESULT"));
  result.steps.push({ step: "ask", agents, progress: progressText });
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
async function quickFix() {
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
  result.steps.push({ step: "quickFix", titles });
  await fix.click();
  await waitForText(env("FIX_RESULT"));
  await save(env("FIX_RESULT"));
}

const STEPS = { codeAction, askAgent, hover, quickFix };

try {
  await page.goto(`${env("CODE_SERVER_URL")}/?folder=${encodeURIComponent(env("WORKSPACE"))}`);
  await page.locator(".monaco-workbench").waitFor({ timeout: WAIT });

  // The extension is running once its status bar item names a model.
  const status = page.locator(".statusbar-item", { hasText: env("STATUS_MODEL") });
  await status.first().waitFor({ timeout: WAIT });
  result.status = (await status.first().innerText()).trim();

  await runCommand("Go to File");
  await page.locator(".quick-input-widget input").fill(env("ROUTE_NAME"));
  await page.locator(".quick-input-list .monaco-list-row", { hasText: env("ROUTE_NAME") }).first().click();
  await waitForText(env("FILE_SHOWS"));

  for (const step of env("STEPS").split(",")) {
    await STEPS[step]();
  }
} catch (error) {
  result.error = String(error?.stack ?? error);
  await page.screenshot({ path: env("SCREENSHOT") }).catch(() => {});
} finally {
  writeFileSync(env("RESULT"), JSON.stringify(result, null, 2));
  await browser.close();
}
