-- The Lua engine's Mandelbrot kernel. luarun loads it once into every state of a pool
-- and calls mandelbrot_row(y, p) for rows handed out one at a time; the returned string
-- is copied once into its place in the caller's buffer.
--
--   y  row of the whole image, 0-based (row 0 is y_min)
--   p  { width, max_iter, x_min, dx, x_offset, y_min, dy, format, poll }
--      format "bits":   PBM P4 row, 1 bit per pixel (1 = in the set), MSB first,
--                       padded to whole bytes
--      format "counts": 4 bytes per pixel, the escape count, little-endian
--      poll()           called every POLL_STEPS steps of work: raises an error when the
--                       render is cancelled, reports progress when due
--
-- Numbers follow luarun's contract exactly (same operations in the same order as the
-- native engine), so both engines produce identical bytes. Runs on Lua 5.1 .. 5.4.

local unpack = table.unpack or unpack
local char, concat = string.char, table.concat
local floor = math.floor

-- Points well inside the main cardioid (|multiplier| <= 0.99) or the period-2 bulb
-- never escape, so they are in the set without iterating (see crates/luarun-render/src/shortcut.rs).
-- Both regions lie inside the box -1.26 < cr < 0.38, |ci| < 0.66, tested first because
-- it is cheap. `^ 0.5` is a square root without a function call. The disk
-- |c + 0.245| <= 0.49 lies inside the claimed cardioid (tests/mandelbrot_shortcuts.rs).
local CARDIOID_LAMBDA_SQ = 0.99 * 0.99
local BULB_RADIUS_SQ = (0.25 * 0.99) * (0.25 * 0.99)
local INNER_DISK_RADIUS_SQ = 0.49 * 0.49
-- Discs well inside the period-3 and period-4 bulbs (centre, radius), the same as
-- shortcut::DISCS: every point in them has a strongly attracting cycle.
local DISCS = {
  { -0.1225611669, 0.7448617666, 0.08 },
  { -0.1225611669, -0.7448617666, 0.08 },
  { -1.3107026413, 0.0, 0.05 },
  { 0.2822713908, 0.5300606176, 0.035 },
  { 0.2822713908, -0.5300606176, 0.035 },
}
-- Periodicity checking pays off only for long budgets (it never changes a result).
local PERIODICITY_FROM = 200

-- Steps of work between two calls of p.poll: well under a millisecond on Lua 5.4, tens
-- of microseconds on LuaJIT, against a fraction of a microsecond per call. A multiple
-- of 8, so the blocks of `iterate` never straddle two stretches.
local POLL_STEPS = 65536
-- What a pixel costs besides its steps (the shortcut tests), in steps.
local PIXEL_COST = 4
-- Steps of work since the last poll, carried from row to row of this state.
local unpolled = 0
local function no_poll() end

-- The whole cardioid lies in the disk |c + 0.125| <= 0.66: points outside it skip the
-- square roots.
local OUTER_DISK_RADIUS_SQ = 0.66 * 0.66

-- Whether c is in the claimed part of the cardioid: lambda = 1 - sqrt(w), w = 1 - 4c,
-- principal root a + b*i.
local function in_cardioid(cr, ci)
  local wr, wi = 1.0 - 4.0 * cr, -4.0 * ci
  local modulus = (wr * wr + wi * wi) ^ 0.5
  local a = ((modulus + wr) * 0.5) ^ 0.5
  return (1.0 - a) * (1.0 - a) + (modulus - wr) * 0.5 <= CARDIOID_LAMBDA_SQ
end

-- Whether c (in the box) is in the claimed part of the bulb or the cardioid. The bulb
-- lies left of -0.75, the claimed cardioid right of it; the cheap disk tests settle most
-- points, only the ring between the inner and the outer disk needs square roots.
local function in_bulb_or_cardioid(cr, ci, ciq)
  if cr < -0.75 then
    return (cr + 1.0) * (cr + 1.0) + ciq <= BULB_RADIUS_SQ
  end
  if (cr + 0.245) * (cr + 0.245) + ciq <= INNER_DISK_RADIUS_SQ then
    return true
  end
  return (cr + 0.125) * (cr + 0.125) + ciq <= OUTER_DISK_RADIUS_SQ and in_cardioid(cr, ci)
end

-- The discs a row at ci crosses, as a flat list {cr, (ci - disc_ci)^2, radius^2, ...};
-- rows far from every disc get an empty list and pay nothing per pixel.
local function discs_crossing(ci)
  local crossing = {}
  for i = 1, #DISCS do
    local disc = DISCS[i]
    local di = ci - disc[2]
    if di >= -disc[3] and di <= disc[3] then
      crossing[#crossing + 1] = disc[1]
      crossing[#crossing + 1] = di * di
      crossing[#crossing + 1] = disc[3] * disc[3]
    end
  end
  return crossing
end

-- Whether c is in one of the discs of `crossing` (from discs_crossing(ci)).
local function in_disc(cr, crossing)
  for i = 1, #crossing, 3 do
    local dr = cr - crossing[i]
    if dr * dr + crossing[i + 1] <= crossing[i + 2] then
      return true
    end
  end
  return false
end

-- Whether c provably never escapes (any of the shortcuts above).
local function is_bounded(cr, ci, crossing)
  if cr > -1.26 and cr < 0.38 and ci > -0.66 and ci < 0.66
      and in_bulb_or_cardioid(cr, ci, ci * ci) then
    return true
  end
  return crossing[1] ~= nil and in_disc(cr, crossing)
end

-- The first step at which |z|^2 > 4, or max_iter if the orbit never escapes, for c not
-- claimed by a shortcut, and the steps it took. Steps run in blocks of 8 for long
-- budgets; after each block the state is compared with one saved at doubling intervals:
-- an orbit that comes back to exactly the same numbers repeats forever and never
-- escapes. Orbits longer than POLL_STEPS call poll between stretches of that many steps.
local function iterate(cr, ci, max_iter, poll)
  local zr, zi, zrq, ziq = cr, ci, cr * cr, ci * ci
  if max_iter < PERIODICITY_FROM then
    for step = 1, max_iter - 1 do
      zi = zr * zi * 2 + ci
      zr = zrq - ziq + cr
      ziq = zi * zi
      zrq = zr * zr
      if zrq + ziq > 4.0 then
        return step, step
      end
    end
    return max_iter, max_iter
  end
  local saved_r, saved_i, next_save = zr, zi, 16
  local last_step = max_iter - 1
  for stretch_start = 1, last_step, POLL_STEPS do
    local stretch_end = stretch_start + POLL_STEPS - 1
    if stretch_end > last_step then
      stretch_end = last_step
    end
    for block_start = stretch_start, stretch_end, 8 do
      local block_end = block_start + 7
      if block_end > stretch_end then
        block_end = stretch_end
      end
      for step = block_start, block_end do
        zi = zr * zi * 2 + ci
        zr = zrq - ziq + cr
        ziq = zi * zi
        zrq = zr * zr
        if zrq + ziq > 4.0 then
          return step, step
        end
      end
      if zr == saved_r and zi == saved_i then
        return max_iter, block_end
      end
      if block_end == next_save then
        saved_r, saved_i, next_save = zr, zi, next_save * 2
      end
    end
    if stretch_end < last_step then
      poll()
    end
  end
  return max_iter, last_step
end

-- string.char(unpack(...)) in slices: unpack has a limit on how many values it returns.
local function bytes_to_string(bytes, n)
  local parts = {}
  for first = 1, n, 4096 do
    local last = first + 4095
    if last > n then
      last = n
    end
    parts[#parts + 1] = char(unpack(bytes, first, last))
  end
  return concat(parts)
end

-- The hot loop of the engine, written out: shortcut tests and the plain iteration are
-- inline (a function call per pixel would cost more than most pixels' iterations).
local function bits_row(ci, p)
  local width, max_iter, x_min, dx, x_offset = p.width, p.max_iter, p.x_min, p.dx, p.x_offset
  local poll = p.poll or no_poll
  local ciq = ci * ci
  local row_in_box = ci > -0.66 and ci < 0.66
  local crossing = discs_crossing(ci)
  local any_disc = crossing[1] ~= nil
  local short = max_iter < PERIODICITY_FROM
  local last_step = max_iter - 1
  -- Short budgets charge each byte its most steps (cheaper than counting them); long
  -- ones charge the steps `iterate` reports on top.
  local byte_cost = 8 * (short and max_iter or PIXEL_COST)
  local work = unpolled
  local bytes, n = {}, 0
  -- One byte (8 pixels, the leftmost in the most significant bit) per outer step.
  for first_x = 0, width - 1, 8 do
    local last_x = first_x + 7
    if last_x >= width then
      last_x = width - 1
    end
    local byte = 0
    for x = first_x, last_x do
      local cr = (x_offset + x) * dx + x_min
      -- Shortcuts first (in_bulb_or_cardioid with its commonest answers inline, then the
      -- discs), then the plain iteration.
      if row_in_box and cr > -1.26 and cr < 0.38
          and (cr < -0.75 and (cr + 1.0) * (cr + 1.0) + ciq <= BULB_RADIUS_SQ
            or cr >= -0.75 and ((cr + 0.245) * (cr + 0.245) + ciq <= INNER_DISK_RADIUS_SQ
              or (cr + 0.125) * (cr + 0.125) + ciq <= OUTER_DISK_RADIUS_SQ
                and in_cardioid(cr, ci)))
          or any_disc and in_disc(cr, crossing) then
        byte = byte * 2 + 1
      elseif short then
        local zr, zi, zrq, ziq = cr, ci, cr * cr, ciq
        local bit = 1
        for _ = 1, last_step do
          zi = zr * zi * 2 + ci
          zr = zrq - ziq + cr
          ziq = zi * zi
          zrq = zr * zr
          if zrq + ziq > 4.0 then
            bit = 0
            break
          end
        end
        byte = byte * 2 + bit
      else
        local count, steps = iterate(cr, ci, max_iter, poll)
        work = work + steps
        if count == max_iter then
          byte = byte * 2 + 1
        else
          byte = byte * 2
        end
      end
    end
    -- Pad the last byte of a row whose width is not a multiple of 8.
    for _ = last_x + 1, first_x + 7 do
      byte = byte * 2
    end
    n = n + 1
    bytes[n] = byte
    work = work + byte_cost
    if work >= POLL_STEPS then
      work = 0
      poll()
    end
  end
  unpolled = work
  return bytes_to_string(bytes, n)
end

local function counts_row(ci, p)
  local width, max_iter, x_min, dx, x_offset = p.width, p.max_iter, p.x_min, p.dx, p.x_offset
  local poll = p.poll or no_poll
  local crossing = discs_crossing(ci)
  local work = unpolled
  local bytes, n = {}, 0
  for x = 0, width - 1 do
    local cr = (x_offset + x) * dx + x_min
    local count, steps = max_iter, 0
    if not is_bounded(cr, ci, crossing) then
      count, steps = iterate(cr, ci, max_iter, poll)
    end
    work = work + steps + PIXEL_COST
    if work >= POLL_STEPS then
      work = 0
      poll()
    end
    for _ = 1, 4 do
      n = n + 1
      bytes[n] = count % 256
      count = floor(count / 256)
    end
  end
  unpolled = work
  return bytes_to_string(bytes, n)
end

function mandelbrot_row(y, p)
  local ci = y * p.dy + p.y_min
  if p.format == "bits" then
    return bits_row(ci, p)
  end
  return counts_row(ci, p)
end
