//! Rich menu images for tests, and an independent reading of their headers for the fake LINE.
//! The PNGs are real (1-bit grayscale, stored deflate blocks, correct CRCs), so any viewer
//! opens them; the JPEGs are only a frame header, which is all LINE's size check reads.

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for part in parts {
        for &byte in *part {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(kind);
    out.extend(data);
    out.extend(crc32(&[kind, data]).to_be_bytes());
}

/// A white `width`×`height` PNG with these `tEXt` entries. About width × height / 8 bytes.
pub fn png(width: u32, height: u32, texts: &[(&str, &str)]) -> Vec<u8> {
    let row = 1 + (width as usize).div_ceil(8);
    let mut raw = Vec::with_capacity(row * height as usize);
    for _ in 0..height {
        raw.push(0); // filter: none
        raw.extend(std::iter::repeat_n(0xFF, row - 1));
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend(len.to_le_bytes());
        zlib.extend((!len).to_le_bytes());
        zlib.extend(*block);
    }
    zlib.extend(adler32(&raw).to_be_bytes());

    let mut out = PNG_SIGNATURE.to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([1, 0, 0, 0, 0]); // 1 bit, grayscale
    chunk(&mut out, b"IHDR", &ihdr);
    for (key, text) in texts {
        chunk(&mut out, b"tEXt", format!("{key}\0{text}").as_bytes());
    }
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// `png` grown past `bytes` with an ancillary chunk (still a valid PNG of the same size).
pub fn padded_png(width: u32, height: u32, bytes: usize) -> Vec<u8> {
    let mut out = png(width, height, &[]);
    let iend = out.split_off(out.len() - 12);
    let pad = vec![0u8; bytes.saturating_sub(out.len())];
    chunk(&mut out, b"zzZz", &pad);
    out.extend(iend);
    out
}

/// The start of a baseline JPEG: SOI, a JFIF APP0 segment and the frame header (SOF0).
pub fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend([0xFF, 0xE0, 0x00, 0x10]);
    out.extend(b"JFIF\0");
    out.extend([1, 1, 0, 0, 1, 0, 1, 0, 0]);
    out.extend([0xFF, 0xC0, 0x00, 0x11, 0x08]);
    out.extend(height.to_be_bytes());
    out.extend(width.to_be_bytes());
    out.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    out.extend([0xFF, 0xD9]);
    out
}

/// What an image file is, read from its first bytes: ("image/png" or "image/jpeg", width,
/// height), or why it cannot be read.
pub fn inspect(bytes: &[u8]) -> Result<(&'static str, u32, u32), String> {
    if bytes.starts_with(&PNG_SIGNATURE) {
        if bytes.get(12..16) != Some(b"IHDR") {
            return Err("a PNG must start with its IHDR chunk".to_string());
        }
        let be = |at: usize| {
            bytes
                .get(at..at + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        return match (be(16), be(20)) {
            (Some(w), Some(h)) => Ok(("image/png", w, h)),
            _ => Err("the PNG header is cut short".to_string()),
        };
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut i = 2;
        while i + 4 <= bytes.len() {
            if bytes[i] != 0xFF {
                return Err(format!("JPEG marker expected at byte {i}"));
            }
            let marker = bytes[i + 1];
            let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
            if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
                let field = |at: usize| {
                    bytes
                        .get(at..at + 2)
                        .map(|b| u32::from(u16::from_be_bytes([b[0], b[1]])))
                };
                return match (field(i + 7), field(i + 5)) {
                    (Some(w), Some(h)) => Ok(("image/jpeg", w, h)),
                    _ => Err("the JPEG frame header is cut short".to_string()),
                };
            }
            i += 2 + len;
        }
        return Err("a JPEG without a frame header".to_string());
    }
    Err("neither PNG nor JPEG".to_string())
}

/// The `tEXt` entries of a PNG.
pub fn png_texts(bytes: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = PNG_SIGNATURE.len();
    while let Some(head) = bytes.get(i..i + 8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let Some(data) = bytes.get(i + 8..i + 8 + len) else {
            break;
        };
        if &head[4..8] == b"tEXt"
            && let Some(nul) = data.iter().position(|&b| b == 0)
        {
            out.push((
                String::from_utf8_lossy(&data[..nul]).into_owned(),
                String::from_utf8_lossy(&data[nul + 1..]).into_owned(),
            ));
        }
        i += 12 + len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_images_read_back() {
        let p = png(2500, 843, &[("k", "v")]);
        assert_eq!(inspect(&p), Ok(("image/png", 2500, 843)));
        assert_eq!(png_texts(&p), vec![("k".to_string(), "v".to_string())]);
        assert!(p.len() < 300_000, "{}", p.len());
        // The CRC of an empty IEND chunk, as in every PNG file.
        assert_eq!(crc32(&[b"IEND"]), 0xAE42_6082);
        assert_eq!(inspect(&jpeg(2500, 843)), Ok(("image/jpeg", 2500, 843)));
        let big = padded_png(2500, 843, 1_200_000);
        assert!(big.len() >= 1_200_000);
        assert_eq!(inspect(&big), Ok(("image/png", 2500, 843)));
        assert!(inspect(b"GIF89a").is_err());
    }
}
