"""Face-training guidelines shown beside the Training form."""

GUIDELINES = [
    ("Identity first", "Every image must show the same person, with the face clearly visible. "
     "Remove images where the face is hidden, tiny or looks like someone else."),
    ("Diverse poses and expressions", "Mix frontal, three-quarter and profile views; neutral, "
     "smiling and talking expressions; close-ups and head-and-shoulders. 14-20 images is the "
     "sweet spot: fewer under-fits, many near-duplicates over-fit."),
    ("Consistent, varied lighting", "Keep the skin tone true under every light; vary the light "
     "direction and background so the model learns the face, not the scene."),
    ("No flip augmentation", "A face is not symmetric (partings, moles, asymmetries): mirrored "
     "images teach a different identity. actorbench keeps flip_aug off."),
    ("A good base image", "Frontal, evenly lit, neutral expression, sharp, at least the training "
     "resolution on the short side, plain background, nothing covering the face."),
    ("Resolution", "Short side at or above the training resolution (512 for SD1.5, 1024 for "
     "SDXL and Flux); do not upscale small images."),
]
