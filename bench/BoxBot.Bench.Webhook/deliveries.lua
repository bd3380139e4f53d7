-- wrk script for bench/BoxBot.Bench.Webhook: sends pre-built requests, cycling through them.
-- wrk's LuaJIT has no HMAC, so the benchmark signs every delivery beforehand and writes whole HTTP
-- requests, all of one length, to one file per wrk thread: DATA.0 for the first thread, DATA.1 for
-- the second, ... (disjoint sets, so no two threads send the same delivery). Every request is split
-- off in init, so request() only picks the next one: wrk does the same small work per request in
-- every run, whichever server it drives.
-- Usage: wrk ... -s deliveries.lua URL -- DATA REQUEST_BYTES

local threads = 0

function setup(thread)
    thread:set("id", threads)
    threads = threads + 1
end

local requests = {}
local current = 0

function init(args)
    local path, size = args[1] .. "." .. id, tonumber(args[2])
    local file = assert(io.open(path, "rb"))
    local data = file:read("*a")
    file:close()
    if #data == 0 or #data % size ~= 0 then
        error(path .. " is not a whole number of " .. size .. "-byte requests")
    end
    for offset = 1, #data, size do
        requests[#requests + 1] = data:sub(offset, offset + size - 1)
    end
end

function request()
    current = current % #requests + 1
    return requests[current]
end
