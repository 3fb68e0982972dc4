-- wrk script that sends prepared requests, one per line of a file, in order.
-- Arguments after "--": the file, then "real" or "bare". A line is
-- "<method>\t<path>\t<content type>\t<body>". In "bare" mode every request
-- goes to /bench/bare-callback with the same query and body. Each wrk
-- thread sends its own share of the lines (line number modulo the thread
-- count) and counts how often it ran out and started its share again.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("slot", #threads)
  thread:set("count", 0)
end

function init(args)
  local mode = args[2]
  local total = tonumber(os.getenv("WRK_THREADS"))
  requests = {}
  local number = 0
  for line in io.lines(args[1]) do
    number = number + 1
    if number % total == slot - 1 then
      local method, path, content_type, body = line:match("^(%S+)\t(%S+)\t([^\t]+)\t(.*)$")
      if mode == "bare" then
        path = "/bench/bare-callback" .. (path:match("(%?.*)$") or "")
      end
      table.insert(requests, wrk.format(method, path, {["Content-Type"] = content_type}, body))
    end
  end
  position = 0
  wraps = 0
  statuses = {}
end

function request()
  position = position + 1
  if position > #requests then
    position = 1
    wraps = wraps + 1
  end
  return requests[position]
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  wrapped = wraps
end

function done(summary, latency, requests)
  local totals, wrapped_total = {}, 0
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("statuses")) do
      totals[key] = (totals[key] or 0) + count
    end
    wrapped_total = wrapped_total + (thread:get("wrapped") or 0)
  end
  local parts = {}
  for key, count in pairs(totals) do
    table.insert(parts, key .. "=" .. count)
  end
  table.sort(parts)
  io.write("status " .. table.concat(parts, " ") .. "\n")
  io.write("wrapped " .. wrapped_total .. "\n")
end
