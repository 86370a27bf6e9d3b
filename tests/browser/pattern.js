/*
 * The Visio test pattern, an exact port of visio_desktop/media/synthetic.py (TestPattern and
 * read_bits / read_pattern). Plain browser script, no modules: it defines window.VisioPattern.
 *
 * Shared spec (keep this file and synthetic.py in step)
 * -----------------------------------------------------
 * All geometry is integer arithmetic (floor division), so both renderers give identical pixels
 * at any size. W x H is the frame size in pixels. (Here every floor is of a quotient of two
 * integers below 2^35, which a double computes exactly.)
 *
 * Code band (rows 0 .. floor(H/4)): 4 rows x 20 columns of cells. Column c spans pixels
 * floor(c*W/20) .. floor((c+1)*W/20) (end excluded), row r spans floor(r*H/16) ..
 * floor((r+1)*H/16). Cell k = r*20 + c carries bit k of an 80-bit message, white (255,255,255)
 * for 1 and black (0,0,0) for 0. The message, most significant bit first:
 *   - 8-bit preamble 0b10110010;
 *   - frame counter, 32 bits (unsigned, big-endian);
 *   - timestamp: wall-clock ms since the Unix epoch, low 32 bits (big-endian);
 *   - CRC-8, polynomial 0x07, initial value 0, not reflected, no final xor (CRC-8/SMBUS) over
 *     the 8 payload bytes (counter then timestamp, big-endian).
 * A reader samples the mean luma (0.299 R + 0.587 G + 0.114 B) over the middle half of every
 * cell (in both directions) and thresholds it at 128.
 *
 * Moving pattern (rows floor(H/4) .. H), a pure function of the counter (modulo 2^32), defined
 * on a 1280x720 reference canvas:
 *   - vertical bars: s = (counter*4) mod 1280; pixel column x has the reference abscissa
 *     u = floor((2x+1)*1280 / (2W)) and the colour BAR_COLOURS[floor(((u + s) mod 1280) / 160)];
 *   - a square of side 128 reference units, colour SQUARE_COLOUR, drawn over the bars: with
 *     tri(v, span) = v mod 2span, mirrored (2span - v) when above span, its reference corner is
 *     xr = tri(counter*8, 1152), yr = 180 + tri(counter*4, 412); in pixels it covers columns
 *     floor(xr*W/1280) .. floor((xr+128)*W/1280) and rows floor(yr*H/720) ..
 *     floor((yr+128)*H/720) (ends excluded).
 *
 * API (window.VisioPattern):
 *   renderPattern(ctx2d, width, height, counter, timestampMs)  draws at (0, 0) via putImageData
 *   renderPatternPixels(width, height, counter, timestampMs[, out])  RGBA Uint8ClampedArray
 *   readPattern(rgba, width, height)  {counter, timestampMs} or null (rgba: ImageData.data)
 */
(function (global) {
  'use strict';

  const PREAMBLE = 0xb2;
  const GRID_COLUMNS = 20;
  const GRID_ROWS = 4;
  const ROWS_PER_FRAME = 16;
  const REF_WIDTH = 1280;
  const REF_HEIGHT = 720;
  const BAR_WIDTH_REF = 160;
  const BAR_STEP_REF = 4;
  const SQUARE_SIDE_REF = 128;
  const SQUARE_STEP_X_REF = 8;
  const SQUARE_STEP_Y_REF = 4;
  const SQUARE_SPAN_X_REF = REF_WIDTH - SQUARE_SIDE_REF; // 1152
  const SQUARE_TOP_REF = REF_HEIGHT / 4; // 180
  const SQUARE_SPAN_Y_REF = REF_HEIGHT - SQUARE_TOP_REF - SQUARE_SIDE_REF; // 412

  const BAR_COLOURS = [
    [224, 224, 224], // light grey
    [192, 32, 32], // red
    [224, 224, 32], // yellow
    [32, 192, 32], // green
    [32, 32, 192], // blue
    [32, 192, 192], // cyan
    [32, 32, 32], // dark grey
    [192, 32, 192], // magenta
  ];
  const SQUARE_COLOUR = [224, 128, 32]; // orange

  function crc8(bytes) {
    let crc = 0;
    for (const byte of bytes) {
      crc ^= byte;
      for (let i = 0; i < 8; i++) {
        crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
      }
    }
    return crc;
  }

  function u32Bytes(value) {
    const v = value >>> 0; // ToUint32: the low 32 bits of any finite number
    return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  }

  // The 80 bits of the code band (0/1), in cell order (row-major, MSB first).
  function encodeMessage(counter, timestampMs) {
    const payload = u32Bytes(counter).concat(u32Bytes(timestampMs));
    const message = [PREAMBLE].concat(payload, [crc8(payload)]);
    const bits = new Uint8Array(message.length * 8);
    message.forEach((byte, i) => {
      for (let b = 0; b < 8; b++) bits[i * 8 + b] = (byte >>> (7 - b)) & 1;
    });
    return bits;
  }

  function decodeMessage(bits) {
    const message = [];
    for (let i = 0; i < 10; i++) {
      let byte = 0;
      for (let b = 0; b < 8; b++) byte = (byte << 1) | (bits[i * 8 + b] ? 1 : 0);
      message.push(byte);
    }
    if (message[0] !== PREAMBLE) return null;
    const payload = message.slice(1, 9);
    if (crc8(payload) !== message[9]) return null;
    const word = (o) =>
      ((payload[o] << 24) | (payload[o + 1] << 16) | (payload[o + 2] << 8) | payload[o + 3]) >>> 0;
    return { counter: word(0), timestampMs: word(4) };
  }

  function fdiv(a, b) {
    return Math.floor(a / b);
  }

  function tri(value, span) {
    const v = value % (2 * span);
    return v <= span ? v : 2 * span - v;
  }

  function bandHeight(height) {
    return fdiv(GRID_ROWS * height, ROWS_PER_FRAME);
  }

  function squareRect(width, height, counter) {
    const c = counter >>> 0;
    const xr = tri(c * SQUARE_STEP_X_REF, SQUARE_SPAN_X_REF);
    const yr = SQUARE_TOP_REF + tri(c * SQUARE_STEP_Y_REF, SQUARE_SPAN_Y_REF);
    return {
      x0: fdiv(xr * width, REF_WIDTH),
      x1: fdiv((xr + SQUARE_SIDE_REF) * width, REF_WIDTH),
      y0: fdiv(yr * height, REF_HEIGHT),
      y1: fdiv((yr + SQUARE_SIDE_REF) * height, REF_HEIGHT),
    };
  }

  // Renders one frame as opaque RGBA (the layout of ImageData.data).
  function renderPatternPixels(width, height, counter, timestampMs, out) {
    if (width < GRID_COLUMNS || height < ROWS_PER_FRAME) {
      throw new Error(`pattern too small: ${width}x${height}`);
    }
    const stride = width * 4;
    const data = out || new Uint8ClampedArray(stride * height);
    const c = counter >>> 0;
    const top = bandHeight(height);

    // moving pattern: one row of bars, copied down, then the square over it
    const shift = (c * BAR_STEP_REF) % REF_WIDTH;
    const barRow = new Uint8ClampedArray(stride);
    for (let x = 0; x < width; x++) {
      const u = fdiv((2 * x + 1) * REF_WIDTH, 2 * width);
      const colour = BAR_COLOURS[fdiv((u + shift) % REF_WIDTH, BAR_WIDTH_REF)];
      barRow[x * 4] = colour[0];
      barRow[x * 4 + 1] = colour[1];
      barRow[x * 4 + 2] = colour[2];
      barRow[x * 4 + 3] = 255;
    }
    for (let y = top; y < height; y++) data.set(barRow, y * stride);
    const sq = squareRect(width, height, c);
    for (let y = sq.y0; y < sq.y1; y++) {
      for (let x = sq.x0; x < sq.x1; x++) {
        const i = y * stride + x * 4;
        data[i] = SQUARE_COLOUR[0];
        data[i + 1] = SQUARE_COLOUR[1];
        data[i + 2] = SQUARE_COLOUR[2];
        data[i + 3] = 255;
      }
    }

    // code band: one pixel row per cell row, copied down over the cell row's height
    const bits = encodeMessage(c, timestampMs);
    const bandRow = new Uint8ClampedArray(stride);
    for (let r = 0; r < GRID_ROWS; r++) {
      for (let col = 0; col < GRID_COLUMNS; col++) {
        const v = bits[r * GRID_COLUMNS + col] ? 255 : 0;
        const x0 = fdiv(col * width, GRID_COLUMNS);
        const x1 = fdiv((col + 1) * width, GRID_COLUMNS);
        for (let x = x0; x < x1; x++) {
          bandRow[x * 4] = v;
          bandRow[x * 4 + 1] = v;
          bandRow[x * 4 + 2] = v;
          bandRow[x * 4 + 3] = 255;
        }
      }
      const y0 = fdiv(r * height, ROWS_PER_FRAME);
      const y1 = fdiv((r + 1) * height, ROWS_PER_FRAME);
      for (let y = y0; y < y1; y++) data.set(bandRow, y * stride);
    }
    return data;
  }

  // Draws one frame onto a canvas 2D context, at (0, 0), width x height pixels.
  function renderPattern(ctx, width, height, counter, timestampMs) {
    const image = ctx.createImageData(width, height);
    renderPatternPixels(width, height, counter, timestampMs, image.data);
    ctx.putImageData(image, 0, 0);
  }

  // Reads the band of an RGBA frame of any size; {counter, timestampMs} or null.
  function readPattern(rgba, width, height) {
    const bits = new Uint8Array(GRID_ROWS * GRID_COLUMNS);
    for (let r = 0; r < GRID_ROWS; r++) {
      const ry0 = fdiv(r * height, ROWS_PER_FRAME);
      const ry1 = fdiv((r + 1) * height, ROWS_PER_FRAME);
      const rq = fdiv(ry1 - ry0, 4);
      const y0 = ry0 + rq;
      const y1 = Math.max(ry1 - rq, y0 + 1);
      for (let col = 0; col < GRID_COLUMNS; col++) {
        const cx0 = fdiv(col * width, GRID_COLUMNS);
        const cx1 = fdiv((col + 1) * width, GRID_COLUMNS);
        const cq = fdiv(cx1 - cx0, 4);
        const x0 = cx0 + cq;
        const x1 = Math.max(cx1 - cq, x0 + 1);
        let sum = 0;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            const i = (y * width + x) * 4;
            sum += 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
          }
        }
        bits[r * GRID_COLUMNS + col] = sum / ((y1 - y0) * (x1 - x0)) >= 128 ? 1 : 0;
      }
    }
    return decodeMessage(bits);
  }

  global.VisioPattern = {
    renderPattern,
    renderPatternPixels,
    readPattern,
    encodeMessage,
    crc8,
    BAR_COLOURS,
    SQUARE_COLOUR,
  };
})(typeof window !== 'undefined' ? window : globalThis);
