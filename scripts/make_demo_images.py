"""Draw the demo product images (marketplace/data/demo_images/*.jpg) with Pillow.

They are stylised pictures in the colours of each craft (blue pottery, phulkari, ajrak, truck
art, rugs...), not photographs of real products. Run from the repository root:

    .venv/bin/python scripts/make_demo_images.py

Each image is drawn at twice its size and scaled down, for smooth edges; 800x800 JPEG, < 120 KB.
"""

import math
import random
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent.parent / "marketplace" / "data" / "demo_images"
SIZE = 800
S = 2 * SIZE  # drawing size

COBALT = (22, 56, 140)
TURQUOISE = (38, 150, 170)
CREAM = (246, 240, 226)
WHITE = (252, 252, 248)
MAROON = (112, 18, 30)
GOLD = (236, 170, 40)
ORANGE = (236, 110, 30)
MAGENTA = (200, 40, 110)
INDIGO = (28, 30, 80)
CRIMSON = (150, 20, 30)
GREEN = (20, 130, 70)
YELLOW = (250, 210, 40)
BLACK = (25, 22, 22)
BRASS = (196, 150, 60)


def canvas(background) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (S, S), background)
    return image, ImageDraw.Draw(image)


def vertical_gradient(top, bottom) -> Image.Image:
    image = Image.new("RGB", (S, S))
    draw = ImageDraw.Draw(image)
    for y in range(S):
        t = y / (S - 1)
        draw.line(
            [(0, y), (S, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    return image


def petal(draw, cx, cy, angle, length, width, fill, outline=None):
    points = []
    for i in range(24):
        t = i / 23 * math.pi
        r = math.sin(t) * width / 2
        d = t / math.pi * length
        x = d * math.cos(angle) - r * math.sin(angle)
        y = d * math.sin(angle) + r * math.cos(angle)
        points.append((cx + x, cy + y))
    for i in range(24):
        t = (23 - i) / 23 * math.pi
        r = -math.sin(t) * width / 2
        d = t / math.pi * length
        x = d * math.cos(angle) - r * math.sin(angle)
        y = d * math.sin(angle) + r * math.cos(angle)
        points.append((cx + x, cy + y))
    draw.polygon(points, fill=fill, outline=outline)


def rosette(draw, cx, cy, radius, petals, colours, centre):
    for i in range(petals):
        angle = 2 * math.pi * i / petals
        petal(draw, cx, cy, angle, radius, radius * 0.45, colours[i % len(colours)])
    draw.ellipse(
        [cx - radius * 0.22, cy - radius * 0.22, cx + radius * 0.22, cy + radius * 0.22],
        fill=centre,
    )


def diamond(draw, cx, cy, w, h, fill, outline=None, width=1):
    draw.polygon(
        [(cx, cy - h), (cx + w, cy), (cx, cy + h), (cx - w, cy)],
        fill=fill,
        outline=outline,
        width=width,
    )


def shadow(image, box, blur=40, opacity=90):
    layer = Image.new("L", image.size, 0)
    ImageDraw.Draw(layer).ellipse(box, fill=opacity)
    layer = layer.filter(ImageFilter.GaussianBlur(blur))
    image.paste((0, 0, 0), mask=layer)


def blue_pottery_vase():
    image = vertical_gradient((236, 228, 212), (200, 188, 168))
    shadow(image, [S * 0.28, S * 0.86, S * 0.72, S * 0.93])
    mask = Image.new("L", (S, S), 0)
    m = ImageDraw.Draw(mask)
    m.ellipse([S * 0.24, S * 0.34, S * 0.76, S * 0.9], fill=255)
    m.rectangle([S * 0.4, S * 0.14, S * 0.6, S * 0.45], fill=255)
    m.ellipse([S * 0.34, S * 0.1, S * 0.66, S * 0.18], fill=255)
    body = Image.new("RGB", (S, S), WHITE)
    d = ImageDraw.Draw(body)
    d.rectangle([0, S * 0.14, S, S * 0.2], fill=COBALT)
    d.rectangle([0, S * 0.4, S, S * 0.43], fill=TURQUOISE)
    for i in range(5):
        rosette(d, S * (0.3 + i * 0.1), S * 0.6, S * 0.075, 8, [COBALT, TURQUOISE], COBALT)
    for i in range(8):
        petal(d, S * (0.22 + i * 0.08), S * 0.8, -math.pi / 2, S * 0.07, S * 0.03, TURQUOISE)
    d.rectangle([0, S * 0.84, S, S * 0.9], fill=COBALT)
    for i in range(10):
        d.ellipse(
            [S * (0.4 + i * 0.02) - 8, S * 0.3 - 8, S * (0.4 + i * 0.02) + 8, S * 0.3 + 8],
            fill=COBALT,
        )
    shade = Image.new("L", (S, S), 0)
    ImageDraw.Draw(shade).ellipse([S * 0.5, S * 0.3, S * 0.95, S * 0.95], fill=70)
    shade = shade.filter(ImageFilter.GaussianBlur(60))
    body.paste((20, 20, 40), mask=shade)
    image.paste(body, mask=mask)
    return image


def blue_pottery_plate():
    image, d = canvas((60, 44, 36))
    c = S / 2
    shadow(image, [c - 650, c - 610, c + 690, c + 730], blur=50, opacity=140)
    d = ImageDraw.Draw(image)
    d.ellipse([c - 680, c - 680, c + 680, c + 680], fill=WHITE)
    d.ellipse([c - 640, c - 640, c + 640, c + 640], outline=COBALT, width=36)
    for i in range(24):
        a = 2 * math.pi * i / 24
        petal(
            d,
            c + 520 * math.cos(a),
            c + 520 * math.sin(a),
            a + math.pi,
            90,
            60,
            TURQUOISE if i % 2 else COBALT,
        )
    d.ellipse([c - 400, c - 400, c + 400, c + 400], outline=TURQUOISE, width=14)
    rosette(d, c, c, 380, 12, [COBALT, TURQUOISE], WHITE)
    rosette(d, c, c, 160, 8, [TURQUOISE], COBALT)
    return image


def phulkari_field(d, x0, y0, x1, y1, base, step=120):
    d.rectangle([x0, y0, x1, y1], fill=base)
    colours = [GOLD, ORANGE, MAGENTA, (250, 235, 180)]
    row = 0
    for cy in range(int(y0) + step // 2, int(y1), step // 2):
        offset = step // 2 if row % 2 else 0
        for cx in range(int(x0) + offset, int(x1) + step, step):
            colour = colours[(row + cx // step) % len(colours)]
            diamond(d, cx, cy, step * 0.42, step * 0.22, colour)
            diamond(d, cx, cy, step * 0.22, step * 0.11, base)
            diamond(d, cx, cy, step * 0.1, step * 0.05, colour)
        row += 1
    # satin-stitch sheen: fine diagonal threads
    for k in range(int(x0) - int(y1), int(x1), 16):
        d.line([(k, y1), (k + (y1 - y0), y0)], fill=base, width=1)


def phulkari_dupatta():
    image, d = canvas(MAROON)
    d.polygon([(0, S * 0.1), (S, 0), (S, S * 0.85), (0, S)], fill=MAROON)
    phulkari_field(d, 0, 0, S, S, MAROON, step=150)
    d.rectangle([0, S * 0.86, S, S], fill=(90, 10, 20))
    for x in range(0, S, 40):
        d.line([(x, S * 0.9), (x + 10, S)], fill=GOLD, width=6)
    for x in range(0, S, 80):
        diamond(d, x + 40, S * 0.88, 30, 18, GOLD)
    return image


def phulkari_cushions():
    image = vertical_gradient((210, 200, 186), (170, 160, 148))
    for x0, y0, base, size in ((120, 360, (40, 60, 120), 860), (700, 180, MAROON, 780)):
        shadow(image, [x0 + 30, y0 + size - 40, x0 + size + 30, y0 + size + 60], blur=30)
        sub = Image.new("RGB", (size, size))
        sd = ImageDraw.Draw(sub)
        phulkari_field(sd, 0, 0, size, size, base, step=130)
        sd.rectangle([0, 0, size - 1, size - 1], outline=GOLD, width=22)
        mask = Image.new("L", (size, size), 0)
        ImageDraw.Draw(mask).rounded_rectangle([0, 0, size, size], radius=90, fill=255)
        image.paste(sub, (x0, y0), mask)
    return image


def ajrak():
    image, d = canvas(CRIMSON)
    cell = 200
    for gy in range(0, S, cell):
        for gx in range(0, S, cell):
            cx, cy = gx + cell / 2, gy + cell / 2
            d.rectangle([gx + 6, gy + 6, gx + cell - 6, gy + cell - 6], outline=INDIGO, width=10)
            for i in range(8):
                a = math.pi / 4 * i
                d.ellipse(
                    [
                        cx + 58 * math.cos(a) - 14,
                        cy + 58 * math.sin(a) - 14,
                        cx + 58 * math.cos(a) + 14,
                        cy + 58 * math.sin(a) + 14,
                    ],
                    fill=WHITE,
                )
            diamond(d, cx, cy, 36, 36, INDIGO)
            d.ellipse([cx - 12, cy - 12, cx + 12, cy + 12], fill=WHITE)
            for corner in ((gx, gy), (gx + cell, gy), (gx, gy + cell), (gx + cell, gy + cell)):
                d.ellipse(
                    [corner[0] - 12, corner[1] - 12, corner[0] + 12, corner[1] + 12], fill=BLACK
                )
    d.rectangle([0, S - 180, S, S], fill=INDIGO)
    for x in range(0, S, 60):
        d.polygon([(x, S - 180), (x + 30, S - 130), (x + 60, S - 180)], fill=CRIMSON)
        d.ellipse([x + 20, S - 90, x + 40, S - 70], fill=WHITE)
    return image


def truck_stripes(d, y0, y1, band=60):
    colours = [(230, 40, 60), YELLOW, GREEN, (30, 110, 200), ORANGE, MAGENTA]
    for i, y in enumerate(range(int(y0), int(y1), band)):
        d.rectangle([0, y, S, y + band], fill=colours[i % len(colours)])
        for x in range(0, S, band):
            d.polygon(
                [(x, y + band), (x + band / 2, y), (x + band, y + band)],
                fill=colours[(i + 3) % len(colours)],
            )


def truck_art_kettle():
    image, d = canvas(BLACK)
    truck_stripes(d, 0, S, band=80)
    d.rectangle([0, S * 0.08, S, S * 0.92], fill=(18, 40, 60))
    shadow(image, [S * 0.22, S * 0.82, S * 0.8, S * 0.9], opacity=160)
    d = ImageDraw.Draw(image)
    d.polygon(
        [(S * 0.72, S * 0.5), (S * 0.9, S * 0.32), (S * 0.93, S * 0.36), (S * 0.76, S * 0.6)],
        fill=YELLOW,
    )
    d.arc([S * 0.3, S * 0.14, S * 0.7, S * 0.5], 180, 360, fill=(220, 220, 220), width=30)
    d.ellipse([S * 0.22, S * 0.3, S * 0.78, S * 0.86], fill=(230, 40, 60))
    d.rectangle([S * 0.3, S * 0.26, S * 0.7, S * 0.36], fill=GREEN)
    d.ellipse([S * 0.46, S * 0.2, S * 0.54, S * 0.28], fill=YELLOW)
    rosette(d, S * 0.5, S * 0.58, S * 0.16, 10, [YELLOW, (30, 110, 200), WHITE], GREEN)
    for i in range(14):
        a = math.pi * 2 * i / 14
        d.ellipse(
            [
                S * 0.5 + S * 0.24 * math.cos(a) - 14,
                S * 0.58 + S * 0.24 * math.sin(a) - 14,
                S * 0.5 + S * 0.24 * math.cos(a) + 14,
                S * 0.58 + S * 0.24 * math.sin(a) + 14,
            ],
            fill=WHITE,
        )
    return image


def truck_art_panel():
    image, d = canvas((250, 240, 220))
    truck_stripes(d, 0, 240)
    truck_stripes(d, S - 240, S)
    d.rectangle([60, 260, S - 60, S - 260], fill=(20, 90, 110))
    c = S / 2
    # peacock: a fan of feathers, a body, a crest
    for i in range(15):
        a = math.pi + math.pi * i / 14
        x, y = c + 420 * math.cos(a), c + 60 + 420 * math.sin(a)
        d.line([(c, c + 60), (x, y)], fill=GREEN, width=10)
        d.ellipse([x - 50, y - 70, x + 50, y + 70], fill=GREEN)
        d.ellipse([x - 32, y - 44, x + 32, y + 44], fill=YELLOW)
        d.ellipse([x - 18, y - 24, x + 18, y + 24], fill=(30, 110, 200))
    d.ellipse([c - 110, c - 40, c + 110, c + 260], fill=(30, 60, 180))
    d.ellipse([c - 60, c - 200, c + 60, c - 60], fill=(30, 60, 180))
    d.polygon([(c + 50, c - 140), (c + 120, c - 120), (c + 50, c - 110)], fill=ORANGE)
    d.ellipse([c + 5, c - 160, c + 35, c - 130], fill=WHITE)
    for i in range(5):
        d.line(
            [(c - 20 + i * 10, c - 200), (c - 40 + i * 20, c - 270)], fill=(30, 60, 180), width=6
        )
        d.ellipse([c - 52 + i * 20, c - 282, c - 28 + i * 20, c - 258], fill=YELLOW)
    for x in range(80, S - 60, 70):
        d.polygon([(x, 260), (x + 35, 310), (x + 70, 260)], fill=(250, 250, 250))
        d.polygon([(x, S - 260), (x + 35, S - 310), (x + 70, S - 260)], fill=(250, 250, 250))
    return image


def kilim():
    image, d = canvas((240, 228, 200))
    colours = [(170, 40, 30), ORANGE, BLACK, (240, 228, 200), (60, 90, 60)]
    y, i = 0, 0
    random.seed(7)
    while y < S:
        h = random.choice([60, 90, 140, 200])
        colour = colours[i % len(colours)]
        d.rectangle([0, y, S, y + h], fill=colour)
        if h >= 140:
            accent = colours[(i + 2) % len(colours)]
            for x in range(0, S + h, h):
                diamond(d, x, y + h / 2, h * 0.45, h * 0.45, accent)
                diamond(d, x, y + h / 2, h * 0.22, h * 0.22, colour)
        elif h == 90:
            for x in range(0, S, 45):
                d.polygon(
                    [(x, y + h), (x + 22, y), (x + 45, y + h)], fill=colours[(i + 1) % len(colours)]
                )
        y += h
        i += 1
    return image


def hand_knotted_carpet():
    image, d = canvas((120, 20, 24))
    d.rectangle([40, 40, S - 40, S - 40], outline=(30, 20, 30), width=60)
    d.rectangle([120, 120, S - 120, S - 120], outline=(220, 190, 140), width=14)
    for gy in range(3):
        for gx in range(3):
            cx, cy = 340 + gx * 460, 340 + gy * 460
            pts = [
                (
                    cx + 170 * math.cos(math.pi / 8 + k * math.pi / 4),
                    cy + 120 * math.sin(math.pi / 8 + k * math.pi / 4),
                )
                for k in range(8)
            ]
            d.polygon(pts, fill=(60, 20, 40), outline=(220, 190, 140), width=8)
            d.line([(cx - 170, cy), (cx + 170, cy)], fill=(220, 190, 140), width=6)
            d.line([(cx, cy - 120), (cx, cy + 120)], fill=(220, 190, 140), width=6)
            for qx in (-1, 1):
                for qy in (-1, 1):
                    diamond(d, cx + qx * 80, cy + qy * 55, 34, 24, (30, 80, 110))
            diamond(d, cx + 230, cy + 230, 40, 40, (30, 80, 110))
    for x in range(60, S - 40, 40):
        diamond(d, x, 70, 16, 16, (220, 190, 140))
        diamond(d, x, S - 70, 16, 16, (220, 190, 140))
    for y in range(60, S - 40, 40):
        diamond(d, 70, y, 16, 16, (220, 190, 140))
        diamond(d, S - 70, y, 16, 16, (220, 190, 140))
    return image


def khussa():
    image = vertical_gradient((60, 30, 50), (30, 14, 26))
    for x0, y0, flip in ((180, 520, False), (760, 860, True)):
        shoe = Image.new("RGBA", (760, 420), (0, 0, 0, 0))
        sd = ImageDraw.Draw(shoe)
        sd.polygon(
            [
                (20, 380),
                (40, 200),
                (160, 120),
                (420, 130),
                (640, 170),
                (740, 40),
                (730, 200),
                (700, 380),
            ],
            fill=(160, 40, 50),
        )
        sd.ellipse([120, 110, 420, 220], fill=(40, 12, 20))
        for i in range(40):
            x = 60 + i * 16
            sd.ellipse([x - 7, 300 - 7, x + 7, 300 + 7], fill=GOLD)
        for cx in (250, 430, 580):
            rosette(sd, cx, 270, 55, 8, [GOLD, (250, 230, 160)], GREEN)
        sd.rectangle([20, 380, 700, 410], fill=(90, 50, 30))
        if flip:
            shoe = shoe.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        shadow(image, [x0, y0 + 360, x0 + 760, y0 + 460], blur=30, opacity=140)
        image.paste(shoe, (x0 - 120 if flip else x0, y0), shoe)
    return image


def brass_plate():
    image, d = canvas((34, 30, 36))
    c = S / 2
    for r in range(700, 0, -6):
        t = r / 700
        colour = tuple(int(a * (1.25 - 0.45 * t)) for a in BRASS)
        d.ellipse([c - r, c - r, c + r, c + r], fill=tuple(min(255, v) for v in colour))
    line = (110, 76, 24)
    for r in (660, 600, 420, 250, 120):
        d.ellipse([c - r, c - r, c + r, c + r], outline=line, width=8)
    for i in range(36):
        a = 2 * math.pi * i / 36
        d.line(
            [
                (c + 420 * math.cos(a), c + 420 * math.sin(a)),
                (c + 600 * math.cos(a), c + 600 * math.sin(a)),
            ],
            fill=line,
            width=5,
        )
        d.arc(
            [
                c + 510 * math.cos(a) - 60,
                c + 510 * math.sin(a) - 60,
                c + 510 * math.cos(a) + 60,
                c + 510 * math.sin(a) + 60,
            ],
            0,
            180,
            fill=line,
            width=5,
        )
    for i in range(16):
        a = 2 * math.pi * i / 16
        petal(d, c, c, a, 400, 90, None, outline=line)
    rosette(d, c, c, 110, 8, [(220, 180, 90)], line)
    return image


def lacquer_box():
    image = vertical_gradient((236, 226, 206), (196, 184, 162))
    shadow(image, [S * 0.14, S * 0.76, S * 0.9, S * 0.86], opacity=140)
    d = ImageDraw.Draw(image)
    colours = [(200, 30, 30), YELLOW, GREEN, BLACK]
    x0, x1 = S * 0.18, S * 0.82
    d.rectangle([x0, S * 0.42, x1, S * 0.8], fill=colours[0])
    for i, y in enumerate(range(int(S * 0.44), int(S * 0.8), 36)):
        colour = colours[i % 4]
        pts = []
        for k in range(0, 41):
            x = x0 + (x1 - x0) * k / 40
            pts.append((x, y + (18 if k % 2 else 0)))
        d.line(pts, fill=colour, width=14)
    d.polygon(
        [(x0 - 30, S * 0.42), (S * 0.3, S * 0.28), (S * 0.7, S * 0.28), (x1 + 30, S * 0.42)],
        fill=BLACK,
    )
    d.rectangle([x0 - 30, S * 0.4, x1 + 30, S * 0.45], fill=(150, 20, 20))
    rosette(d, S * 0.5, S * 0.35, 90, 8, [YELLOW, (200, 30, 30)], GREEN)
    for x in (S * 0.36, S * 0.64):
        rosette(d, x, S * 0.35, 45, 6, [GREEN], YELLOW)
    return image


IMAGES: dict[str, Callable[[], Image.Image]] = {
    "blue-pottery-vase.jpg": blue_pottery_vase,
    "blue-pottery-plate.jpg": blue_pottery_plate,
    "phulkari-dupatta.jpg": phulkari_dupatta,
    "phulkari-cushions.jpg": phulkari_cushions,
    "ajrak-shawl.jpg": ajrak,
    "truck-art-kettle.jpg": truck_art_kettle,
    "truck-art-panel.jpg": truck_art_panel,
    "kilim-rug.jpg": kilim,
    "hand-knotted-carpet.jpg": hand_knotted_carpet,
    "multani-khussa.jpg": khussa,
    "brass-plate.jpg": brass_plate,
    "lacquer-box.jpg": lacquer_box,
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in IMAGES.items():
        image = draw().convert("RGB").resize((SIZE, SIZE), Image.Resampling.LANCZOS)
        path = OUT / name
        for quality in (84, 78, 72, 64):
            image.save(path, "JPEG", quality=quality, optimize=True, progressive=True)
            if path.stat().st_size < 120_000:
                break
        print(f"{path.relative_to(OUT.parent.parent.parent)}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
