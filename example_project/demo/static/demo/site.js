// Loaded from the S3 static URL; the browser test checks it ran.
document.documentElement.dataset.staticJs = "loaded";
