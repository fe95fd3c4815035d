// Vietnamese UI chrome text (the default language). Validation messages are
// not here: the backend sends them already localized.
export const vi = {
  'app.title': 'Ghi Danh',
  'app.subtitle': 'Thu nhận thông tin định danh',
  'app.devMode': 'Chế độ thử: dữ liệu giả trong trình duyệt, không có phần lõi.',
  'app.loading': 'Đang tải…',
  'app.startFailed': 'Không khởi động được ứng dụng.',

  'lang.toggle': 'EN',
  'lang.toggleTitle': 'Chuyển sang tiếng Anh (English)',

  'setup.title': 'Tạo tài khoản người thu nhận',
  'setup.intro':
    'Máy này chưa có người thu nhận. Hãy tạo tài khoản để bắt đầu. Cụm mật khẩu dùng để mở khóa ứng dụng và bảo vệ dữ liệu lưu trên máy.',
  'setup.name': 'Họ và tên người thu nhận',
  'setup.pass': 'Cụm mật khẩu',
  'setup.passHint': 'Nên dùng vài từ dễ nhớ nhưng khó đoán.',
  'setup.pass2': 'Nhập lại cụm mật khẩu',
  'setup.submit': 'Tạo tài khoản',

  'unlock.title': 'Mở khóa',
  'unlock.intro': 'Nhập cụm mật khẩu để tiếp tục làm việc.',
  'unlock.operator': 'Người thu nhận:',
  'unlock.pass': 'Cụm mật khẩu',
  'unlock.submit': 'Mở khóa',

  'header.operator': 'Người thu nhận',
  'header.device': 'Mã thiết bị',
  'header.registry': 'Máy chủ đăng ký',
  'header.notSet': '—',
  'header.lock': 'Khóa',
  'header.lockTitle': 'Khóa ứng dụng khi rời khỏi máy',

  'form.title': 'Hồ sơ đăng ký',
  'form.newRecord': 'Hồ sơ mới (chưa lưu)',
  'form.editingDraft': 'Đang sửa bản nháp {id}',
  'form.birthName': 'Họ, chữ đệm và tên khai sinh',
  'form.birthNameHint': 'Viết đầy đủ, có dấu, đúng như giấy khai sinh.',
  'form.dateOfBirth': 'Ngày sinh',
  'form.sex': 'Giới tính',
  'form.sexChoose': '— Chọn —',
  'form.sexMale': 'Nam',
  'form.sexFemale': 'Nữ',
  'form.personalId': 'Số định danh cá nhân',
  'form.personalIdHint': 'Gồm 12 chữ số.',
  'form.save': 'Lưu nháp',
  'form.finalise': 'Hoàn tất và niêm phong',
  'form.new': 'Hồ sơ mới',
  'form.shortcuts': 'Phím tắt: Ctrl+S lưu nháp · Ctrl+Enter hoàn tất và niêm phong',
  'form.saving': 'Đang lưu…',
  'form.savedAt': 'Đã lưu nháp lúc {time}',
  'form.unsaved': 'Có thay đổi chưa lưu',
  'form.saved': 'Đã lưu nháp.',
  'form.finalised': 'Đã niêm phong hồ sơ của {name}, đang chờ gửi.',
  'form.loaded': 'Đã mở bản nháp của {name}.',
  'form.nothingToSave': 'Chưa có thông tin nào để lưu.',

  'list.title': 'Danh sách hồ sơ',
  'list.empty': 'Chưa có hồ sơ nào.',
  'list.noName': '(chưa có tên)',
  'list.receipt': 'Biên nhận:',
  'list.reason': 'Lý do:',
  'list.updated': 'Cập nhật:',
  'list.openDraft': 'Bấm để mở và sửa bản nháp',

  'state.draft': 'Nháp',
  'state.sealed': 'Đã niêm phong',
  'state.uploading': 'Đang gửi',
  'state.accepted': 'Đã chấp nhận',
  'state.rejected': 'Bị từ chối',

  'error.unknown': 'Đã xảy ra lỗi không xác định.',
} as const;

export type MessageKey = keyof typeof vi;
export type Messages = Record<MessageKey, string>;
