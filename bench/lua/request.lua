-- privops bench: one wrk script for every HTTP scenario.
--
-- bench/wrk.py prepends a table `BENCH` with:
--   salt, method, path, body (optional), headers (table), paths (optional list, cycled),
--   ids (optional list, cycled), rand_max and rand_min (optional), per_thread_limit (0 = no limit),
--   delay_ms (optional: a pause before each request on a connection, to pace the load),
--   think (optional: the pause is a user's think time instead, random with delay_ms as its mean)
-- Placeholders in path and body: {n} a string unique to the request (salt, thread, counter),
-- {id} the next value of `ids`, {rand} a random integer in rand_min..rand_max (rand_min defaults to 1).
-- Each thread stops itself after `per_thread_limit` responses, so a run is bounded in
-- requests as well as in time (-d). done() prints one line "BENCH_JSON {...}".

local threads = {}
local next_tid = 1

function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
   table.insert(threads, thread)
end

local counter = 0
local limit = 0
ok, c4xx, c5xx, other, last_bad = 0, 0, 0, 0, 0

function init(args)
   limit = BENCH.per_thread_limit or 0
   math.randomseed(os.time() + (tid or 0) * 7919)
end

local function fill(template)
   local unique = (BENCH.salt or "") .. tostring(tid or 0) .. "x" .. tostring(counter)
   local s = template:gsub("{n}", unique)
   if BENCH.ids then
      s = s:gsub("{id}", BENCH.ids[(counter % #BENCH.ids) + 1])
   end
   if BENCH.rand_max then
      s = s:gsub("{rand}", string.format("%d", math.random(BENCH.rand_min or 1, BENCH.rand_max)))
   end
   return s
end

function request()
   counter = counter + 1
   local path = BENCH.path
   if BENCH.paths then
      path = BENCH.paths[(counter % #BENCH.paths) + 1]
   end
   local body = nil
   if BENCH.body then
      body = fill(BENCH.body)
   end
   local headers = {}
   for k, v in pairs(BENCH.headers) do
      headers[k] = v
   end
   return wrk.format(BENCH.method, fill(path), headers, body)
end

if BENCH.delay_ms and BENCH.think then
   -- Exponentially distributed (capped at five times the mean): users who click independently of one another,
   -- not ten connections firing in step after the same pause.
   function delay()
      return math.floor(math.min(-math.log(1 - math.random()), 5) * BENCH.delay_ms)
   end
elseif BENCH.delay_ms then
   function delay()
      return BENCH.delay_ms
   end
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      ok = ok + 1
   elseif status >= 400 and status < 500 then
      c4xx = c4xx + 1
      last_bad = status
   elseif status >= 500 then
      c5xx = c5xx + 1
      last_bad = status
   else
      other = other + 1
   end
   if limit > 0 and (ok + c4xx + c5xx + other) >= limit then
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local t_ok, t_4xx, t_5xx, t_other, t_last = 0, 0, 0, 0, 0
   for _, thread in ipairs(threads) do
      t_ok = t_ok + (thread:get("ok") or 0)
      t_4xx = t_4xx + (thread:get("c4xx") or 0)
      t_5xx = t_5xx + (thread:get("c5xx") or 0)
      t_other = t_other + (thread:get("other") or 0)
      local bad = thread:get("last_bad") or 0
      if bad > 0 then
         t_last = bad
      end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
         .. '"ok": %d, "c4xx": %d, "c5xx": %d, "other": %d, "last_bad_status": %d, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"latency_us": {"min": %d, "mean": %.1f, "stdev": %.1f, "max": %d, '
         .. '"p50": %d, "p75": %d, "p90": %d, "p99": %d, "p99.9": %d}}\n',
      summary.requests, summary.duration, summary.bytes,
      t_ok, t_4xx, t_5xx, t_other, t_last,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.stdev, latency.max,
      latency:percentile(50), latency:percentile(75), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9)
   ))
end
