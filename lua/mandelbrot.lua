-- The Lua engine's Mandelbrot kernel. luarun loads it once into every state of a pool
-- and calls mandelbrot_row(y, p) for rows handed out one at a time; the returned string
-- is copied once into its place in the caller's buffer.
--
--   y  row of the whole image, 0-based (row 0 is y_min)
--   p  { width, max_iter, x_min, dx, x_offset, y_min, dy, format }
--      format "bits":   PBM P4 row, 1 bit per pixel (1 = in the set), MSB first,
--                       padded to whole bytes
--      format "counts": 4 bytes per pixel, the escape count, little-endian
--
-- Numbers follow luarun's contract exactly (same operations in the same order as the
-- native engine), so both engines produce identical bytes. Runs on Lua 5.1 .. 5.4.

local unpack = table.unpack or unpack
local char, concat = string.char, table.concat
local floor = math.floor

-- Points well inside the main cardioid (|multiplier| <= 0.99) or the period-2 bulb
-- never escape, so they are in the set without iterating (see src/mandelbrot/shortcut.rs).
-- Both regions lie inside the box -1.26 < cr < 0.38, |ci| < 0.66, tested first because
-- it is cheap. `^ 0.5` is a square root without a function call. The disk
-- |c + 0.245| <= 0.49 lies inside the claimed cardioid (tests/mandelbrot_shortcuts.rs).
local CARDIOID_LAMBDA_SQ = 0.99 * 0.99
local BULB_RADIUS_SQ = (0.25 * 0.99) * (0.25 * 0.99)
local INNER_DISK_RADIUS_SQ = 0.49 * 0.49
-- Periodicity checking pays off only for long budgets (it never changes a result).
local PERIODICITY_FROM = 200

-- The first step at which |z|^2 > 4, or max_iter if the orbit never escapes.
local function escape_count(cr, ci, max_iter)
  -- Shortcuts, cheapest first and written inline (a call per pixel costs more than
  -- the tests): a disk inside the claimed cardioid, the bulb, then the exact
  -- cardioid multiplier lambda = 1 - sqrt(w), w = 1 - 4c, principal root a + b*i.
  if cr > -1.26 and cr < 0.38 and ci > -0.66 and ci < 0.66 then
    local ciq = ci * ci
    if (cr + 0.245) * (cr + 0.245) + ciq <= INNER_DISK_RADIUS_SQ
        or (cr + 1.0) * (cr + 1.0) + ciq <= BULB_RADIUS_SQ then
      return max_iter
    end
    local wr, wi = 1.0 - 4.0 * cr, -4.0 * ci
    local modulus = (wr * wr + wi * wi) ^ 0.5
    local a = ((modulus + wr) * 0.5) ^ 0.5
    if (1.0 - a) * (1.0 - a) + (modulus - wr) * 0.5 <= CARDIOID_LAMBDA_SQ then
      return max_iter
    end
  end
  local zr, zi, zrq, ziq = cr, ci, cr * cr, ci * ci
  if max_iter <= PERIODICITY_FROM then
    -- Short budgets: a plain loop; cycles rarely close this early.
    for step = 1, max_iter - 1 do
      zi = zr * zi * 2 + ci
      zr = zrq - ziq + cr
      ziq = zi * zi
      zrq = zr * zr
      if zrq + ziq > 4.0 then
        return step
      end
    end
    return max_iter
  end
  -- Steps run in blocks of 8; after each block the state is compared with one saved at
  -- doubling intervals: an orbit that comes back to exactly the same numbers repeats
  -- forever and never escapes.
  local saved_r, saved_i, next_save = zr, zi, 16
  local last_step = max_iter - 1
  for block_start = 1, last_step, 8 do
    local block_end = block_start + 7
    if block_end > last_step then
      block_end = last_step
    end
    for step = block_start, block_end do
      zi = zr * zi * 2 + ci
      zr = zrq - ziq + cr
      ziq = zi * zi
      zrq = zr * zr
      if zrq + ziq > 4.0 then
        return step
      end
    end
    if zr == saved_r and zi == saved_i then
      return max_iter
    end
    if block_end == next_save then
      saved_r, saved_i, next_save = zr, zi, next_save * 2
    end
  end
  return max_iter
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

local function bits_row(ci, p)
  local width, max_iter, x_min, dx, x_offset = p.width, p.max_iter, p.x_min, p.dx, p.x_offset
  local bytes, n = {}, 0
  local byte, bits = 0, 0
  for x = 0, width - 1 do
    local cr = (x_offset + x) * dx + x_min
    byte = byte * 2
    if escape_count(cr, ci, max_iter) == max_iter then
      byte = byte + 1
    end
    bits = bits + 1
    if bits == 8 then
      n = n + 1
      bytes[n] = byte
      byte, bits = 0, 0
    end
  end
  if bits > 0 then
    for _ = bits + 1, 8 do
      byte = byte * 2
    end
    n = n + 1
    bytes[n] = byte
  end
  return bytes_to_string(bytes, n)
end

local function counts_row(ci, p)
  local width, max_iter, x_min, dx, x_offset = p.width, p.max_iter, p.x_min, p.dx, p.x_offset
  local bytes, n = {}, 0
  for x = 0, width - 1 do
    local cr = (x_offset + x) * dx + x_min
    local count = escape_count(cr, ci, max_iter)
    for _ = 1, 4 do
      n = n + 1
      bytes[n] = count % 256
      count = floor(count / 256)
    end
  end
  return bytes_to_string(bytes, n)
end

function mandelbrot_row(y, p)
  local ci = y * p.dy + p.y_min
  if p.format == "bits" then
    return bits_row(ci, p)
  end
  return counts_row(ci, p)
end
