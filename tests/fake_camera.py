"""Fake camera input for browser tests (no Django imports).

Chromium plays a YUV4MPEG2 (.y4m) file as its camera when launched with::

    --use-fake-ui-for-media-stream --use-fake-device-for-media-stream
    --use-file-for-fake-video-capture=/path/to/file.y4m

The page must be a secure context (https, or http on localhost/127.0.0.1)
for getUserMedia to exist.
"""

from pathlib import Path

import qrcode
from PIL import Image


def qr_image(text, box_size=8):
    """Return a black-on-white QR code (with the standard 4-module quiet zone)."""
    qr = qrcode.QRCode(box_size=box_size, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    return qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def write_y4m(image, path, frames=30, size=(640, 480)):
    """Write ``image`` centred on a white ``size`` canvas as a 4:2:0 y4m file.

    The image is scaled down (keeping its aspect ratio) if it does not fit.
    All frames are identical; Chromium loops the file.
    """
    width, height = size
    if width % 2 or height % 2:
        raise ValueError("width and height must be even for 4:2:0 chroma")
    image = image.convert("RGB")
    if image.width > width or image.height > height:
        image = image.copy()
        image.thumbnail((width, height), Image.NEAREST)
    canvas = Image.new("RGB", (width, height), "white")
    canvas.paste(image, ((width - image.width) // 2, (height - image.height) // 2))

    # PIL's YCbCr is full-range BT.601, i.e. what C420jpeg declares.
    y, cb, cr = canvas.convert("YCbCr").split()
    half = (width // 2, height // 2)
    # Box filter averages each 2x2 block: JPEG-style centred chroma siting.
    frame = (
        y.tobytes() + cb.resize(half, Image.BOX).tobytes() + cr.resize(half, Image.BOX).tobytes()
    )

    header = f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode("ascii")
    with open(Path(path), "wb") as fh:
        fh.write(header)
        for _ in range(frames):
            fh.write(b"FRAME\n")
            fh.write(frame)
    return Path(path)
