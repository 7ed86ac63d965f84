"""The original Phi-4-multimodal image processor (processing_phi4mm.py on the hub), image side only.

This is the reference PhiKit follows (../shared/reference/phi4-multimodal.md §4, §11.3): the HD image is
resized with PIL bilinear (antialiased) on the PIL image, padded right/bottom with white, normalized to
[-1, 1]; the global view is a torch bicubic (align_corners=False, no antialias) resize of the *normalized*
HD image. transformers' native processor resizes with torchvision instead, which differs by a few levels.

Used by tools/media (pixel fixtures) and tools/fixtures (model fixtures). Dev-time only.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

CROP = 448
PATCH = 14
MASK = CROP // PATCH  # 32


def find_closest_aspect_ratio(aspect_ratio, target_ratios, width, height, image_size):
    best_ratio_diff = float("inf")
    best_ratio = (1, 1)
    area = width * height
    for ratio in target_ratios:
        target_aspect_ratio = ratio[0] / ratio[1]
        ratio_diff = abs(aspect_ratio - target_aspect_ratio)
        if ratio_diff < best_ratio_diff:
            best_ratio_diff = ratio_diff
            best_ratio = ratio
        elif ratio_diff == best_ratio_diff:
            if area > 0.5 * image_size * image_size * ratio[0] * ratio[1]:
                best_ratio = ratio
    return best_ratio


def grid_for(width, height, max_num=36, min_num=1, image_size=CROP):
    """(columns, rows) of 448-pixel crops, exactly as the original dynamic_preprocess chooses them."""
    w_crop_num = math.ceil(width / float(image_size))
    h_crop_num = math.ceil(height / float(image_size))
    if w_crop_num * h_crop_num > max_num:
        aspect_ratio = width / height
        # A set, as in the original: equal i*j candidates keep CPython's set iteration order.
        target_ratios = set(
            (i, j)
            for n in range(min_num, max_num + 1)
            for i in range(1, n + 1)
            for j in range(1, n + 1)
            if i * j <= max_num and i * j >= min_num
        )
        target_ratios = sorted(target_ratios, key=lambda x: x[0] * x[1])
        return find_closest_aspect_ratio(aspect_ratio, target_ratios, width, height, image_size)
    return (w_crop_num, h_crop_num)


def dynamic_preprocess(image: Image.Image, max_num=36, image_size=CROP, patch_size=PATCH, mask_size=MASK):
    """Returns (padded HD PIL image, patch mask [32*rows, 32*cols] as np.int64, (cols, rows), (pad_w, pad_h))."""
    orig_width, orig_height = image.size
    cols, rows = grid_for(orig_width, orig_height, max_num=max_num, image_size=image_size)
    target_width, target_height = image_size * cols, image_size * rows
    ratio_width = target_width / orig_width
    ratio_height = target_height / orig_height
    if ratio_width < ratio_height:
        new_size = (target_width, int(orig_height * ratio_width))
        padding_width = 0
        padding_height = target_height - int(orig_height * ratio_width)
    else:
        new_size = (int(orig_width * ratio_height), target_height)
        padding_width = target_width - int(orig_width * ratio_height)
        padding_height = 0
    mask = np.ones((mask_size * rows, mask_size * cols), dtype=np.int64)
    if padding_width >= patch_size:
        mask[:, -math.floor(padding_width / patch_size):] = 0
    if padding_height >= patch_size:
        mask[-math.floor(padding_height / patch_size):, :] = 0
    if min(new_size[1], target_height) < 10 or min(new_size[0], target_width) < 10:
        raise ValueError(f"the aspect ratio is very extreme {new_size}")
    resized = image.resize(new_size, Image.BILINEAR)  # PIL: antialiased bilinear
    padded = Image.new("RGB", (target_width, target_height), (255, 255, 255))
    padded.paste(resized, (0, 0))
    return padded, mask, (cols, rows), (padding_width, padding_height)


def preprocess(image: Image.Image, dynamic_hd=36):
    """One image → dict(pixel_values [1+n,3,448,448] f32, attention_mask [1+n,32,32] int64,
    image_size (H_t, W_t), num_img_tokens, grid (cols, rows), hd_uint8 [H_t, W_t, 3] uint8)."""
    image = image.convert("RGB")
    hd, mask, (cols, rows), _ = dynamic_preprocess(image, max_num=dynamic_hd)
    hd_u8 = np.asarray(hd, dtype=np.uint8)
    # ToTensor (x/255) then Normalize(0.5, 0.5), in float32 as torchvision does.
    x = torch.from_numpy(hd_u8.copy()).permute(2, 0, 1).float().div(255)
    x = (x - 0.5) / 0.5
    H, W = x.shape[1], x.shape[2]
    glb = F.interpolate(x.unsqueeze(0), size=(CROP, CROP), mode="bicubic", align_corners=False)[0]
    crops = x.reshape(3, rows, CROP, cols, CROP).permute(1, 3, 0, 2, 4).reshape(-1, 3, CROP, CROP)
    m = torch.from_numpy(mask)
    mcrops = m.reshape(rows, MASK, cols, MASK).transpose(1, 2).reshape(-1, MASK, MASK)
    down = mcrops[:, 0::2, 0::2].reshape(rows, cols, MASK // 2, MASK // 2).transpose(1, 2)
    down = down.reshape(rows * (MASK // 2), cols * (MASK // 2))
    num_img_tokens = 256 + 1 + int(down.sum()) + int(down[:, 0].sum()) + 16
    pixel_values = torch.cat([glb.unsqueeze(0), crops], dim=0)
    attention_mask = torch.cat([torch.ones(1, MASK, MASK, dtype=torch.int64), mcrops], dim=0)
    return {
        "pixel_values": pixel_values.contiguous(),
        "attention_mask": attention_mask.contiguous(),
        "image_size": (H, W),
        "num_img_tokens": num_img_tokens,
        "grid": (cols, rows),
        "hd_uint8": hd_u8,
    }


def token_count(width, height, dynamic_hd=36):
    """num_img_tokens = 256 + 16 + 1 + R*C + R (reference §4), without touching pixels."""
    cols, rows = grid_for(width, height, max_num=dynamic_hd)
    tw, th = CROP * cols, CROP * rows
    rw, rh = tw / width, th / height
    pad_w = tw - int(width * rh) if rw >= rh else 0
    pad_h = th - int(height * rw) if rw < rh else 0
    zc = pad_w // PATCH if pad_w >= PATCH else 0
    zr = pad_h // PATCH if pad_h >= PATCH else 0
    C = math.ceil((MASK * cols - zc) / 2)
    R = math.ceil((MASK * rows - zr) / 2)
    return 256 + 16 + 1 + R * C + R
