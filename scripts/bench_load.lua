-- Mixed load for scripts/bench_load.py: each wrk thread drives one connection as one of
-- the signed-in people in `people` (defined above this by the script), sending every
-- `write_every`-th request as a progress note on one of their actions and the rest as
-- page views. Latency is timed here, per request, so reads and writes are told apart
-- (one connection per thread: request() and response() strictly alternate).
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local now = ffi.new("bench_timespec")

local function milliseconds()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
  return tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
end

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads)
  table.insert(threads, thread)
end

function init(args)
  person = people[(thread_number % #people) + 1]
  sent = 0
  kind = "read"
  started = 0
  statuses = {}
  -- Flat lists: thread:get copies a table of numbers, not a table of tables.
  read_latencies, write_latencies = {}, {}
end

function request()
  sent = sent + 1
  local headers = { Cookie = person.cookie }
  started = milliseconds()
  if sent % write_every == 0 then
    kind = "write"
    local action = person.actions[(sent / write_every) % #person.actions + 1]
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local body = "body=Load+test+note+" .. thread_number .. "-" .. sent
      .. "&_csrf_token=" .. person.csrf
    return wrk.format("POST", "/actions/" .. action .. "/progress", headers, body)
  end
  kind = "read"
  return wrk.format("GET", person.pages[sent % #person.pages + 1], headers)
end

function response(status, headers, body)
  local elapsed = milliseconds() - started
  local key = kind .. " " .. status
  statuses[key] = (statuses[key] or 0) + 1
  local list = kind == "write" and write_latencies or read_latencies
  list[#list + 1] = elapsed
end

local function percentile(sorted, fraction)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, math.ceil(#sorted * fraction))]
end

function done(summary, latency, requests)
  local counts, merged = {}, { read = {}, write = {} }
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("statuses")) do
      counts[key] = (counts[key] or 0) + count
    end
    for _, which in ipairs({ "read", "write" }) do
      for _, value in ipairs(thread:get(which .. "_latencies")) do
        table.insert(merged[which], value)
      end
    end
  end
  -- Lines for bench_load.py to read.
  for key, count in pairs(counts) do
    print(string.format("BENCH status %s %d", key, count))
  end
  for _, which in ipairs({ "read", "write" }) do
    local sorted = merged[which]
    table.sort(sorted)
    print(string.format(
      "BENCH latency %s %d %.1f %.1f %.1f %.1f",
      which, #sorted, percentile(sorted, 0.5), percentile(sorted, 0.99),
      percentile(sorted, 0.999), sorted[#sorted] or 0
    ))
  end
  local errors = summary.errors
  print(string.format(
    "BENCH summary %d %d %d %d %d %d %d",
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.timeout, errors.status
  ))
end
