/**
 * The QR code of an `otpauth://` URI as a PNG data URL, for the API's enrolment answer and the
 * account page alike. The library loads on first use: most servers never enrol anyone, and the
 * default start stays free of it (test/architecture.test.ts).
 */
export async function renderQrCodeDataUrl(uri: string): Promise<string> {
  const { default: QRCode } = await import('qrcode')
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 256 })
}
