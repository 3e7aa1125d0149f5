-- The server's work-done progress ($/progress) for a running action: kept from Neovim's
-- LspProgress events for the statusline, echoed when no progress plugin shows it, and cancelled
-- with :SubagentCancel.
local ui = require("subagent_lsp.ui")

local M = {}

-- Running work by "client_id:token": { client_id, token, title, message, cancellable }, newest last.
local running = {}
local order = {}

-- Requests the plugin sent itself and is waiting on: { client_id, request_id, token? }.
local requests = {}

local function key(client_id, token)
  return client_id .. ":" .. tostring(token)
end

local function text_of(work)
  if work.message and work.message ~= "" then
    return work.title .. ": " .. work.message
  end
  return work.title
end

local function progress_plugin_loaded()
  return package.loaded["fidget"] ~= nil or package.loaded["noice"] ~= nil
end

-- LspProgress for one of the plugin's clients.
function M.on_progress(client_id, params)
  local value = params.value
  if type(value) ~= "table" then
    return
  end
  local id = key(client_id, params.token)
  if value.kind == "begin" then
    running[id] = {
      client_id = client_id,
      token = params.token,
      title = value.title or "subagent-lsp",
      message = value.message,
      cancellable = value.cancellable,
    }
    table.insert(order, id)
  elseif value.kind == "report" and running[id] then
    running[id].message = value.message or running[id].message
    if value.cancellable ~= nil then
      running[id].cancellable = value.cancellable
    end
  elseif value.kind == "end" then
    running[id] = nil
    order = vim.tbl_filter(function(other)
      return other ~= id
    end, order)
  end
  if value.kind ~= "end" and vim.g.subagent_lsp_progress_echo ~= false and not progress_plugin_loaded() then
    ui.note(M.status())
  end
  vim.cmd.redrawstatus({ bang = true })
end

-- What is running, for a statusline: "" when nothing is.
function M.status()
  local newest = order[#order]
  if not newest then
    return ""
  end
  local text = text_of(running[newest])
  if #order > 1 then
    text = text .. string.format(" (+%d)", #order - 1)
  end
  return text
end

-- A request the plugin sends and :SubagentCancel may stop; call the returned function when it is
-- answered.
function M.track(client_id, request_id)
  local entry = { client_id = client_id, request_id = request_id }
  requests[entry] = true
  return function()
    requests[entry] = nil
  end
end

-- Stop everything running: progress the server said may be cancelled, and the plugin's own
-- requests that have none (an explanation). Returns how many were stopped.
function M.cancel()
  local stopped = 0
  for _, id in ipairs(order) do
    local work = running[id]
    local client = vim.lsp.get_client_by_id(work.client_id)
    if client and work.cancellable ~= false then
      client:notify("window/workDoneProgress/cancel", { token = work.token })
      stopped = stopped + 1
    end
  end
  if stopped == 0 then
    for entry in pairs(requests) do
      local client = vim.lsp.get_client_by_id(entry.client_id)
      if client then
        client:cancel_request(entry.request_id)
        stopped = stopped + 1
      end
      requests[entry] = nil
    end
  end
  return stopped
end

return M
