-- Shared by the wrk scripts of scripts/bench: user lists, tokens, response counting, and one
-- machine-readable result line. A mix script passes its functions to common.install(mix).
-- mix.load() reads the mix's lists once per wrk thread. mix.next() returns the path, the bearer
-- header value and the kind of error the request is meant to cause (nil for none).
-- The optional mix.expected(status, body) returns whether a non-2xx response was intended.
local common = {}

function common.read_lines(path)
  local file = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  local lines = {}
  for line in file:lines() do
    if line ~= "" then
      lines[#lines + 1] = line
    end
  end
  file:close()
  assert(#lines > 0, path .. " holds no line")
  return lines
end

function common.env_lines(name)
  local path = os.getenv(name)
  assert(path and path ~= "", "the environment variable " .. name .. " is not set")
  return common.read_lines(path)
end

function common.pick(list)
  return list[math.random(#list)]
end

-- Bearer header values, built once.
function common.bearers(name)
  local values = {}
  for i, token in ipairs(common.env_lines(name)) do
    values[i] = "Bearer " .. token
  end
  return values
end

local threads = {}

function common.install(mix)
  -- Counters live as globals in each thread's Lua state, where done() reads them.
  ok_responses, expected_errors, unexpected_errors, rate_limited, intended_errors = 0, 0, 0, 0, 0

  function setup(thread)
    threads[#threads + 1] = thread
    thread:set("thread_index", #threads)
  end

  function init(args)
    math.randomseed(os.time() * 97 + (thread_index or 0))
    mix.load()
  end

  function request()
    local path, bearer, intended = mix.next()
    if intended then
      intended_errors = intended_errors + 1
    end
    return wrk.format("GET", path, { ["Authorization"] = bearer })
  end

  function response(status, headers, body)
    if status >= 200 and status < 300 then
      ok_responses = ok_responses + 1
      return
    end
    if status == 429 then
      rate_limited = rate_limited + 1
    end
    if mix.expected and mix.expected(status, body) then
      expected_errors = expected_errors + 1
    else
      unexpected_errors = unexpected_errors + 1
    end
  end

  function done(summary, latency, requests)
    local totals = { ok = 0, expected = 0, unexpected = 0, rate_limited = 0, intended = 0 }
    for _, thread in ipairs(threads) do
      totals.ok = totals.ok + (thread:get("ok_responses") or 0)
      totals.expected = totals.expected + (thread:get("expected_errors") or 0)
      totals.unexpected = totals.unexpected + (thread:get("unexpected_errors") or 0)
      totals.rate_limited = totals.rate_limited + (thread:get("rate_limited") or 0)
      totals.intended = totals.intended + (thread:get("intended_errors") or 0)
    end
    local e = summary.errors
    io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,'
        .. '"p99_us":%d,"max_us":%d,"mean_us":%.1f,"ok":%d,"expected_errors":%d,'
        .. '"unexpected_errors":%d,"rate_limited":%d,"intended_errors":%d,'
        .. '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, totals.ok, totals.expected, totals.unexpected, totals.rate_limited,
      totals.intended, e.connect, e.read, e.write, e.timeout))
  end
end

return common
