"""Image modes: every PIL mode the formats imagefolder reads decode to the 8-bit RGB they mean;
16-bit and float images by a fixed scale per mode, so dark stays darker than bright."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from benchmarks.data import load_dataset
from benchmarks.data._images import decode_files
from benchmarks.data._modes import PixelRangeError, to_rgb8

GRAY = 0x7A  # an 8-bit gray level; 16-bit files hold it as GRAY * 257 (0x7A7A)


def _solid(mode: str, value: int = GRAY) -> Image.Image:
    """A 4x3 image of ``mode``: gray ``value`` in every band (8-bit level; scaled to the mode)."""
    if mode in ("I;16", "I;16B", "I"):
        value *= 257
    bands = len(Image.new(mode, (1, 1)).getbands())
    return Image.new(mode, (4, 3), value if bands == 1 else (value,) * bands)


def _decoded(tmp_path, image: Image.Image, fmt: str) -> np.ndarray:
    """``image`` saved in ``fmt`` and decoded by ftbench, as ``(H, W, 3)``."""
    path = tmp_path / f"x.{fmt.lower()}"
    image.save(path, format=fmt)
    return decode_files("imagefolder", [str(path)], None)[0].permute(1, 2, 0).numpy()


def _png16(pixels: np.ndarray, color_type: int) -> bytes:
    """A 16-bit PNG written by hand (PIL writes no 16-bit colour PNG): rows of big-endian
    samples; ``color_type`` 0 gray, 2 RGB, 4 gray + alpha, 6 RGBA."""
    height, width = pixels.shape[:2]
    rows = b"".join(b"\x00" + pixels[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


FILE_MODES = [  # (format, mode saved): what PNG, JPEG, BMP, GIF and WebP files open as
    ("PNG", "1"), ("PNG", "L"), ("PNG", "LA"), ("PNG", "P"), ("PNG", "RGB"), ("PNG", "RGBA"),
    ("PNG", "I;16"), ("PNG", "I;16B"),
    ("JPEG", "L"), ("JPEG", "RGB"), ("JPEG", "CMYK"),
    ("BMP", "1"), ("BMP", "L"), ("BMP", "RGB"),
    ("GIF", "L"), ("GIF", "RGB"),
    ("WEBP", "RGB"), ("WEBP", "RGBA"),
]


@pytest.mark.parametrize(("fmt", "mode"), FILE_MODES, ids=[f"{f}-{m}" for f, m in FILE_MODES])
def test_every_format_and_mode_decodes_to_its_gray_level(tmp_path, fmt, mode):
    image = _solid(mode)
    if mode == "1":
        image = Image.new("1", (4, 3), 1)  # bilevel: white
    elif mode == "P":
        image = _solid("RGB").convert("P", palette=Image.Palette.ADAPTIVE)
    elif mode == "CMYK":
        image = Image.new("CMYK", (4, 3), (0, 0, 0, 255 - GRAY))  # K alone: gray GRAY
    rgb = _decoded(tmp_path, image, fmt)
    expected = 255 if mode == "1" else GRAY
    assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8
    assert np.abs(rgb.astype(int) - expected).max() <= (3 if fmt in ("JPEG", "WEBP") else 0)


def test_dark_and_bright_16_bit_pngs_keep_their_brightness(tmp_path):
    levels = {"dark": [0, 1000, 4096], "bright": [40000, 61440, 65535]}
    for name, values in levels.items():
        for i, value in enumerate(values):
            (tmp_path / name).mkdir(exist_ok=True)
            Image.fromarray(np.full((5, 6), value, np.uint16)).save(tmp_path / name / f"{i}.png")
    with Image.open(tmp_path / "dark" / "2.png") as image:
        assert image.mode == "I;16"  # what PIL's convert("RGB") would clamp to 255
    data = load_dataset("imagefolder", root=tmp_path, test_fraction=0.34)
    images = {}
    for part in (data.train, data.test):
        for image, label in zip(part.images, part.labels.tolist()):
            images.setdefault(data.classes[label], set()).add(int(image[0, 0, 0]))
            assert (image == image[0, 0, 0]).all()  # solid gray in all three channels
    assert images == {"dark": {0, 3, 16}, "bright": {156, 240, 255}}  # the high byte, v >> 8


def test_a_16_bit_gray_png_decodes_as_16_bit_colour_pngs_of_that_gray(tmp_path):
    values = np.array([[0, 255, 256, 30000, 65280, 65535]], np.uint16)
    Image.fromarray(values).save(tmp_path / "gray.png")
    (tmp_path / "rgb.png").write_bytes(_png16(np.repeat(values[..., None], 3, axis=2), 2))
    (tmp_path / "rgba.png").write_bytes(_png16(np.stack([values] * 4, axis=2), 6))
    (tmp_path / "la.png").write_bytes(_png16(np.stack([values] * 2, axis=2), 4))
    paths = [str(tmp_path / f"{n}.png") for n in ("gray", "rgb", "rgba", "la")]
    decoded = decode_files("imagefolder", paths, None)
    assert decoded[0, 0, 0].tolist() == [0, 0, 1, 117, 255, 255]
    assert all(np.array_equal(decoded[0], other) for other in decoded[1:])


@pytest.mark.parametrize(("mode", "values", "expected"), [
    ("I", [0, 256, 65535], [0, 1, 255]),
    ("F", [0.0, 0.5, 1.0], [0, 128, 255]),
])
def test_32_bit_modes_use_a_fixed_scale(mode, values, expected):
    image = Image.fromarray(np.array([values], np.int32 if mode == "I" else np.float32), mode)
    assert to_rgb8(image)[0, :, 1].tolist() == expected


@pytest.mark.parametrize(("mode", "values", "needle"), [
    ("I", [0, 70000], ("pixel values in 0..65535 (16-bit values, read as their high byte) "
                       "must hold for PIL mode I, but got 0..70000")),
    ("I", [-1, 5], "but got -1..5"),
    ("F", [0.0, 2.5], ("pixel values in 0..1 (floats, read as 255 * value) must hold for PIL "
                       "mode F, but got 0..2.5")),
    ("F", [0.5, float("nan")], "but got 0.5..0.5 and not-a-number or infinite values"),
])
def test_32_bit_values_outside_the_scale_are_refused(mode, values, needle):
    image = Image.fromarray(np.array([values], np.int32 if mode == "I" else np.float32), mode)
    with pytest.raises(PixelRangeError) as error:
        to_rgb8(image)
    assert needle in str(error.value)


def test_a_file_outside_the_scale_is_one_line_naming_it(tmp_path):
    path = tmp_path / "scan.tif"  # PIL opens files by their content, whatever their name
    Image.fromarray(np.array([[0.0, 3.0]], np.float32), "F").save(path)
    with pytest.raises(ValueError) as error:
        decode_files("imagefolder", [str(path)], None)
    assert str(error.value) == (
        "Dataset 'imagefolder': pixel values in 0..1 (floats, read as 255 * value) must hold "
        f"for PIL mode F, but got 0..3 for '{path}'. Save it as an 8- or 16-bit PNG, scaled "
        "the same way as every other image of the dataset.")


def test_a_cut_16_bit_png_is_still_a_readable_image_error(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(np.full((40, 40), 9000, np.uint16)).save(buffer, format="PNG")
    (tmp_path / "cut.png").write_bytes(buffer.getvalue()[:60])
    with pytest.raises(ValueError, match="a readable image must hold, but got .*cut.png"):
        decode_files("imagefolder", [str(tmp_path / "cut.png")], None)
