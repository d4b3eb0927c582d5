import { describe, expect, it } from 'vitest'
import { ApiError } from '../src/api/errors'
import { formAfter, photoFailedMessage, sendNoteThenPhoto } from '../src/inspector/submit'

const corruptJpeg = () => Promise.reject(new ApiError(422, 'validation_failed', '文件无法接收（类型或大小不符）'))

describe('the inspector’s note, then photo', () => {
  it('clears the note once the status change carrying it succeeded, even when the photo fails', async () => {
    const sent: string[] = []
    const outcome = await sendNoteThenPhoto(async () => sent.push('status with note'), corruptJpeg)
    expect(outcome.stored).toBe('note')
    expect(sent).toEqual(['status with note'])
    // only the photo is left to send again: the note is in the ledger for good
    expect(formAfter(outcome)).toEqual({ clearNote: true, clearPhoto: false })
  })

  it('keeps everything when the status change itself fails, and sends no photo', async () => {
    let photoSent = false
    const outcome = await sendNoteThenPhoto(
      () => Promise.reject(new ApiError(409, 'conflict', '数据已被他人修改')),
      async () => {
        photoSent = true
      },
    )
    expect(outcome.stored).toBe('nothing')
    expect(photoSent).toBe(false)
    expect(formAfter(outcome)).toEqual({ clearNote: false, clearPhoto: false })
  })

  it('clears the form when both went through, or when there was only a photo', async () => {
    expect(formAfter(await sendNoteThenPhoto(async () => 1, async () => 2))).toEqual({ clearNote: true, clearPhoto: true })
    expect(formAfter(await sendNoteThenPhoto(null, async () => 2))).toEqual({ clearNote: true, clearPhoto: true })
  })

  it('says the note is kept and only the photo is to resend', () => {
    const message = photoFailedMessage('文件无法接收（类型或大小不符）', true)
    expect(message).toContain('说明已保存')
    expect(message).toContain('请重新选择照片')
    expect(photoFailedMessage('网络连接失败', false)).not.toContain('说明已保存')
  })
})
